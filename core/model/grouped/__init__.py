"""All members of a DenseSM ensemble packed into grouped tensors, for speed.

The 25 members share the shapes of their temporal blocks and read the same input, so the three
convolutions of all members run as matrix products: conv1 as one product over the input's
windows (3 series x 5 taps -> M*32 channels), conv2 and conv3 as one batched product over the
members each. The dense parts differ per member; members of equal width ``w`` form a
group, sorted by depth (deepest first), so dense layer ``i`` of every member deeper than ``i`` is
one batched matrix product. The bottleneck inputs (``30 + d*w`` features, new features first) are
left-padded with zeros to the group's largest depth, with the weights padded to match: a zero
mask keeps the padding exactly zero during training. Inference on CPUs runs each member's dense
head on its own instead (:class:`_MemberHead`: single matrix products run faster there than
batched ones), and splits its work over lanes, one per CPU thread (:mod:`core.model.lanes`).

Training this module is exactly training each member on its own (the losses add up, and Adam and
BatchNorm act per element or per channel), with the same batches shown to every member.

One concern per module: :mod:`.ops` (tensor operations of the convolutions), :mod:`.autograd`
(training's dropout and fused passes), :mod:`.layers` (grouped BatchNorm, linear maps, dense
blocks and width groups), :mod:`.inference` (the no-autograd paths) and :mod:`.ensemble_net`
(:class:`GroupedEnsemble`, with the conversion from and to the published state dicts).
"""

from __future__ import annotations

from .ensemble_net import GroupedEnsemble, MemberSpec
from .inference import TEMPORAL_CHUNK
from .ops import BN_EPS, BN_MOMENTUM

__all__ = [
    "BN_EPS",
    "BN_MOMENTUM",
    "TEMPORAL_CHUNK",
    "GroupedEnsemble",
    "MemberSpec",
]
