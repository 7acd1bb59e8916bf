<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>@default</name>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="47"/>
        <source>the coordinate reference system is not valid; choose a CRS</source>
        <translation>le système de coordonnées n'est pas valide ; choisissez un SCR</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="64"/>
        <source>the area of interest is empty: draw or choose a polygon</source>
        <translation>la zone d'intérêt est vide : dessinez ou choisissez un polygone</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="66"/>
        <source>the area of interest must be a polygon, not a point or a line</source>
        <translation>la zone d'intérêt doit être un polygone, pas un point ni une ligne</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="77"/>
        <source>the extent is empty: give xmin, ymin, xmax, ymax with xmin &lt; xmax</source>
        <translation>l'emprise est vide : indiquez xmin, ymin, xmax, ymax avec xmin &lt; xmax</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="106"/>
        <source>choose a valid polygon layer for the area of interest</source>
        <translation>choisissez une couche de polygones valide pour la zone d'intérêt</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="108"/>
        <source>layer {name} has no polygons</source>
        <translation>la couche {name} ne contient pas de polygones</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="112"/>
        <source>no feature is selected in {name}</source>
        <translation>aucune entité n'est sélectionnée dans {name}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="112"/>
        <source>{name} has no features</source>
        <translation>{name} ne contient aucune entité</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="176"/>
        <source>type the extent as xmin, ymin, xmax, ymax [EPSG:4326], got {text!r}</source>
        <translation>saisissez l'emprise sous la forme xmin, ymin, xmax, ymax [EPSG:4326] ; reçu {text!r}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="184"/>
        <source>the extent values must be numbers, got {text!r}</source>
        <translation>les valeurs de l'emprise doivent être des nombres ; reçu {text!r}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="189"/>
        <source>unknown CRS {crs!r}; use e.g. EPSG:4326</source>
        <translation>SCR inconnu {crs!r} ; utilisez par exemple EPSG:4326</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="191"/>
        <source>empty or inverted extent: xmin &lt; xmax and ymin &lt; ymax are needed</source>
        <translation>emprise vide ou inversée : il faut xmin &lt; xmax et ymin &lt; ymax</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="210"/>
        <source>give at least one date as YYYY-MM-DD</source>
        <translation>indiquez au moins une date au format AAAA-MM-JJ</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="216"/>
        <source>{item!r} is not a date; use YYYY-MM-DD</source>
        <translation>{item!r} n'est pas une date ; utilisez AAAA-MM-JJ</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="299"/>
        <source>Soil moisture stations</source>
        <translation>Stations d'humidité du sol</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="65"/>
        <source>Adapt &amp; Map</source>
        <translation>Adapter et cartographier</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="69"/>
        <source>Adapts the 25 pretrained DenseSM models to your soil moisture stations with multi-scale domain adaptation (MSDA, or another method) and maps surface soil moisture (0-5 cm, m3/m3) at 50 m over the area of interest on each Sentinel-1 date. Each GeoTIFF has two bands: the ensemble mean and its spread. The folder also receives the adapted ensemble (reuse it with Map with a saved ensemble), an HTML validation report with charts and a run manifest. Alpha (the weight of the 50 m loss) is chosen automatically when left empty.</source>
        <translation>Adapte les 25 modèles DenseSM pré-entraînés à vos stations d'humidité du sol par adaptation de domaine multi-échelle (MSDA, ou une autre méthode) et cartographie l'humidité du sol de surface (0-5 cm, m3/m3) à 50 m sur la zone d'intérêt à chaque date Sentinel-1. Chaque GeoTIFF a deux bandes : la moyenne de l'ensemble et sa dispersion. Le dossier reçoit aussi l'ensemble adapté (réutilisable avec « Cartographier avec un ensemble adapté enregistré »), un rapport de validation HTML avec graphiques et un manifeste du calcul. Alpha (le poids de la perte à 50 m) est choisi automatiquement s'il est laissé vide.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="92"/>
        <source>Alpha, weight of the 50 m loss (empty: automatic)</source>
        <translation>Alpha, poids de la perte à 50 m (vide : automatique)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="104"/>
        <source>Training period start, YYYY-MM-DD (empty: one year before)</source>
        <translation>Début de la période d'entraînement, AAAA-MM-JJ (vide : un an avant)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="113"/>
        <source>Training period end, YYYY-MM-DD (empty: the first map date)</source>
        <translation>Fin de la période d'entraînement, AAAA-MM-JJ (vide : la première date cartographiée)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="125"/>
        <source>Adaptation epochs</source>
        <translation>Époques d'adaptation</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="155"/>
        <source>Random seed</source>
        <translation>Graine aléatoire</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="94"/>
        <source>Device</source>
        <translation>Processeur de calcul</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="169"/>
        <source>Pretrained model set (installed name or folder)</source>
        <translation>Jeu de modèles pré-entraînés (nom installé ou dossier)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="178"/>
        <source>Cross-validate (leave one station out)</source>
        <translation>Validation croisée (une station exclue à la fois)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="187"/>
        <source>Also write maps reprojected to this CRS</source>
        <translation>Écrire aussi les cartes reprojetées dans ce SCR</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="123"/>
        <source>Output folder</source>
        <translation>Dossier de sortie</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/map_ensemble.py" line="59"/>
        <source>Soil moisture map (first date)</source>
        <translation>Carte d'humidité du sol (première date)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/map_ensemble.py" line="62"/>
        <source>Soil moisture maps</source>
        <translation>Cartes d'humidité du sol</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/map_ensemble.py" line="65"/>
        <source>Soil moisture maps blended with SMAP</source>
        <translation>Cartes d'humidité du sol combinées avec SMAP</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="211"/>
        <source>Validation report (HTML)</source>
        <translation>Rapport de validation (HTML)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="212"/>
        <source>Adapted ensemble</source>
        <translation>Ensemble adapté</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="213"/>
        <source>Alpha used</source>
        <translation>Alpha utilisé</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="224"/>
        <source>{text!r} is not a date; use YYYY-MM-DD</source>
        <translation>{text!r} n'est pas une date ; utilisez AAAA-MM-JJ</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="271"/>
        <source>Alpha: {reason}</source>
        <translation>Alpha : {reason}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/provider.py" line="40"/>
        <source>Soil moisture</source>
        <translation>Humidité du sol</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="51"/>
        <source>Google Earth Engine</source>
        <translation>Google Earth Engine</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="51"/>
        <source>Demo (simulated scene, no account)</source>
        <translation>Démo (scène simulée, sans compte)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="57"/>
        <source>MSDA: multi-scale domain adaptation (recommended)</source>
        <translation>MSDA : adaptation de domaine multi-échelle (recommandé)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="57"/>
        <source>MS: multi-scale fine-tuning</source>
        <translation>MS : ajustement multi-échelle</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="57"/>
        <source>DA: domain adaptation</source>
        <translation>DA : adaptation de domaine</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="57"/>
        <source>Fine-tune on the stations</source>
        <translation>Ajustement sur les stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="57"/>
        <source>Pretrained only (no adaptation)</source>
        <translation>Pré-entraîné seul (sans adaptation)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="66"/>
        <source>CUDA (GPU)</source>
        <translation>CUDA (GPU)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="175"/>
        <source>Area of interest (polygon layer)</source>
        <translation>Zone d'intérêt (couche de polygones)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="183"/>
        <source>Area of interest (extent, used when no layer is given)</source>
        <translation>Zone d'intérêt (emprise, utilisée sans couche)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="193"/>
        <source>Station files (ISMN .stm, station CSV or .zip)</source>
        <translation>Fichiers de stations (ISMN .stm, CSV de stations ou .zip)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="204"/>
        <source>Map date(s), YYYY-MM-DD, separated by commas</source>
        <translation>Date(s) à cartographier, AAAA-MM-JJ, séparées par des virgules</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="70"/>
        <source>Data source</source>
        <translation>Source de données</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="220"/>
        <source>Adaptation method</source>
        <translation>Méthode d'adaptation</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="241"/>
        <source>AOI</source>
        <translation>Zone d'intérêt</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="254"/>
        <source>Give an area of interest: a polygon layer or an extent.</source>
        <translation>Indiquez une zone d'intérêt : une couche de polygones ou une emprise.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="266"/>
        <source>Station file not found: {paths}</source>
        <translation>Fichier de stations introuvable : {paths}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="299"/>
        <source>Cancelled by the user; nothing half-written was kept.</source>
        <translation>Annulé par l'utilisateur ; aucun fichier incomplet n'a été conservé.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="39"/>
        <source>Install pretrained models</source>
        <translation>Installer les modèles pré-entraînés</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="43"/>
        <source>Installs the published DenseSM 9 km ensemble (25 models) into your model store, from the authors&apos; DenseSM_9km.zip, a folder of coarse_*.pt files or an http(s) address of the zip. Checksums are verified; a cancelled or failed install leaves nothing behind.</source>
        <translation>Installe l'ensemble DenseSM 9 km publié (25 modèles) dans votre magasin de modèles, à partir du DenseSM_9km.zip des auteurs, d'un dossier de fichiers coarse_*.pt ou d'une adresse http(s) du zip. Les sommes de contrôle sont vérifiées ; une installation annulée ou en échec ne laisse rien derrière elle.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="52"/>
        <source>Model archive (DenseSM_9km.zip) or its address</source>
        <translation>Archive des modèles (DenseSM_9km.zip) ou son adresse</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="52"/>
        <source>Zip archives (*.zip)</source>
        <translation>Archives zip (*.zip)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="61"/>
        <source>Or a folder of model files</source>
        <translation>Ou un dossier de fichiers de modèles</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="66"/>
        <source>Name of the installed set</source>
        <translation>Nom du jeu installé</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="73"/>
        <source>Replace an installed set of that name</source>
        <translation>Remplacer un jeu installé du même nom</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="80"/>
        <source>Installed model set</source>
        <translation>Jeu de modèles installé</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="81"/>
        <source>Model set name</source>
        <translation>Nom du jeu de modèles</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="96"/>
        <source>Give the model archive, its address or a folder.</source>
        <translation>Indiquez l'archive des modèles, son adresse ou un dossier.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/install_models.py" line="102"/>
        <source>Installed {n} models as {name} in {path}</source>
        <translation>{n} modèles installés sous le nom {name} dans {path}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/list_dates.py" line="50"/>
        <source>List Sentinel-1 dates</source>
        <translation>Lister les dates Sentinel-1</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/list_dates.py" line="54"/>
        <source>Lists the Sentinel-1 acquisitions over the area of interest between two dates: date, orbit pass, relative orbit and the share of the area covered. The dates output can feed the Map date(s) of Adapt &amp; Map in a model.</source>
        <translation>Liste les acquisitions Sentinel-1 sur la zone d'intérêt entre deux dates : date, passage (ascendant ou descendant), orbite relative et part de la zone couverte. La sortie des dates peut alimenter les dates à cartographier d'« Adapter et cartographier » dans un modèle.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="108"/>
        <source>From</source>
        <translation>Du</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="109"/>
        <source>To</source>
        <translation>Au</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/list_dates.py" line="73"/>
        <source>Sentinel-1 acquisitions</source>
        <translation>Acquisitions Sentinel-1</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/list_dates.py" line="78"/>
        <source>Dates (comma separated)</source>
        <translation>Dates (séparées par des virgules)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/list_dates.py" line="93"/>
        <source>The end date is before the start date.</source>
        <translation>La date de fin est antérieure à la date de début.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/list_dates.py" line="95"/>
        <source>Searching Sentinel-1 acquisitions from {start} to {end}</source>
        <translation>Recherche des acquisitions Sentinel-1 du {start} au {end}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/list_dates.py" line="125"/>
        <source>{n} acquisitions</source>
        <translation>{n} acquisitions</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/load_stations.py" line="34"/>
        <source>Load soil moisture stations</source>
        <translation>Charger des stations d'humidité du sol</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/load_stations.py" line="38"/>
        <source>Reads ISMN downloads (.stm files, folders or the ISMN .zip) and station CSVs (columns station, lat, lon, timestamp, sm) and writes one point per surface (0-5 cm) sensor with its station name, network, number of daily samples and period. With an area of interest, only the stations inside it are kept.</source>
        <translation>Lit les téléchargements ISMN (fichiers .stm, dossiers ou le .zip ISMN) et les CSV de stations (colonnes station, lat, lon, timestamp, sm) et écrit un point par capteur de surface (0-5 cm) avec le nom de sa station, son réseau, son nombre d'échantillons journaliers et sa période. Avec une zone d'intérêt, seules les stations qu'elle contient sont conservées.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="71"/>
        <source>Stations</source>
        <translation>Stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/load_stations.py" line="52"/>
        <source>Number of sensors</source>
        <translation>Nombre de capteurs</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/load_stations.py" line="86"/>
        <source>{n} sensors at {s} stations</source>
        <translation>{n} capteurs dans {s} stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/map_ensemble.py" line="36"/>
        <source>Map with a saved adapted ensemble</source>
        <translation>Cartographier avec un ensemble adapté enregistré</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/map_ensemble.py" line="40"/>
        <source>Maps soil moisture at 50 m on new dates (or a new area) with the adapted ensemble an Adapt &amp; Map run saved in its output folder (the &apos;ensemble&apos; sub-folder). No station data and no retraining are needed.</source>
        <translation>Cartographie l'humidité du sol à 50 m à de nouvelles dates (ou sur une nouvelle zone) avec l'ensemble adapté qu'un calcul « Adapter et cartographier » a enregistré dans son dossier de sortie (le sous-dossier « ensemble »). Aucune donnée de station ni aucun réentraînement ne sont nécessaires.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/map_ensemble.py" line="48"/>
        <source>Adapted ensemble folder</source>
        <translation>Dossier de l'ensemble adapté</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/provider.py" line="46"/>
        <source>Soil moisture (DenseSM-E + MSDA) {version}</source>
        <translation>Humidité du sol (DenseSM-E + MSDA) {version}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="60"/>
        <source>Validate a soil moisture raster against stations</source>
        <translation>Valider un raster d'humidité du sol avec des stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="64"/>
        <source>Samples a soil moisture map (m3/m3) at the stations that have a reading on the map&apos;s date and reports the number of stations, correlation R, RMSE, unbiased RMSE and bias, with a scatter chart. The date is read from the raster&apos;s metadata unless given.</source>
        <translation>Échantillonne une carte d'humidité du sol (m3/m3) aux stations qui ont une mesure à la date de la carte et indique le nombre de stations, la corrélation R, le RMSE, le RMSE non biaisé et le biais, avec un nuage de points. La date est lue dans les métadonnées du raster si elle n'est pas indiquée.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="73"/>
        <source>Soil moisture raster</source>
        <translation>Raster d'humidité du sol</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="75"/>
        <source>Date of the raster, YYYY-MM-DD (empty: from its metadata)</source>
        <translation>Date du raster, AAAA-MM-JJ (vide : d'après ses métadonnées)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="82"/>
        <source>Folder for the charts</source>
        <translation>Dossier des graphiques</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="85"/>
        <source>Validation metrics (JSON)</source>
        <translation>Métriques de validation (JSON)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="86"/>
        <source>Charts (PNG)</source>
        <translation>Graphiques (PNG)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="104"/>
        <source>Choose a soil moisture raster.</source>
        <translation>Choisissez un raster d'humidité du sol.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/validate.py" line="132"/>
        <source>Validation on {date}: {metrics}</source>
        <translation>Validation du {date} : {metrics}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>the Google Earth Engine data source</source>
        <translation>la source de données Google Earth Engine</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/plugin.py" line="81"/>
        <source>Soil Moisture</source>
        <translation>Humidité du sol</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="72"/>
        <source>Area of interest</source>
        <translation>Zone d'intérêt</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="89"/>
        <source>Drag a rectangle on the map</source>
        <translation>Tracez un rectangle sur la carte</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="92"/>
        <source>Click the vertices on the map; right-click or double-click to finish</source>
        <translation>Cliquez les sommets sur la carte ; clic droit ou double-clic pour terminer</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="96"/>
        <source>Demo area</source>
        <translation>Zone de démo</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="97"/>
        <source>The simulated demo scene (no account needed)</source>
        <translation>La scène de démonstration simulée (sans compte)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="107"/>
        <source>Selected features only</source>
        <translation>Entités sélectionnées uniquement</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="108"/>
        <source>Use layer</source>
        <translation>Utiliser la couche</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="110"/>
        <source>Polygon layer</source>
        <translation>Couche de polygones</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="115"/>
        <source>xmin, ymin, xmax, ymax [EPSG:4326]</source>
        <translation>xmin, ymin, xmax, ymax [EPSG:4326]</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="117"/>
        <source>Use extent</source>
        <translation>Utiliser l'emprise</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="119"/>
        <source>Extent</source>
        <translation>Emprise</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="78"/>
        <source>No area yet: draw one, pick a layer or type an extent.</source>
        <translation>Pas encore de zone : dessinez-en une, choisissez une couche ou saisissez une emprise.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="96"/>
        <source>ISMN .stm files, ISMN .zip downloads or station CSVs</source>
        <translation>Fichiers ISMN .stm, téléchargements ISMN .zip ou CSV de stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="103"/>
        <source>Clear</source>
        <translation>Effacer</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="241"/>
        <source>No stations loaded.</source>
        <translation>Aucune station chargée.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="49"/>
        <source>Dates</source>
        <translation>Dates</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="67"/>
        <source>Find Sentinel-1 dates</source>
        <translation>Trouver les dates Sentinel-1</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="68"/>
        <source>List the Sentinel-1 acquisitions over the area within {days} days of the date</source>
        <translation>Lister les acquisitions Sentinel-1 sur la zone à moins de {days} jours de la date</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="76"/>
        <source>Map date</source>
        <translation>Date de la carte</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="81"/>
        <source>Date</source>
        <translation>Date</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="81"/>
        <source>Pass</source>
        <translation>Passage</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="81"/>
        <source>Orbit</source>
        <translation>Orbite</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="81"/>
        <source>Coverage</source>
        <translation>Couverture</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="84"/>
        <source>Tick the dates to map; double-click a date to put it in the date picker</source>
        <translation>Cochez les dates à cartographier ; double-cliquez une date pour la reporter dans le sélecteur</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="89"/>
        <source>Ticked dates are mapped; with none ticked, the map date is.</source>
        <translation>Les dates cochées sont cartographiées ; si aucune n'est cochée, la date de la carte l'est.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="95"/>
        <source>Training period</source>
        <translation>Période d'entraînement</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="96"/>
        <source>Unticked: the year before the first map date</source>
        <translation>Non cochée : l'année précédant la première date cartographiée</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="56"/>
        <source>Options</source>
        <translation>Options</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="79"/>
        <source>Method</source>
        <translation>Méthode</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="78"/>
        <source>Automatic</source>
        <translation>Automatique</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="88"/>
        <source>Alpha (50 m loss weight)</source>
        <translation>Alpha (poids de la perte à 50 m)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="92"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="93"/>
        <source>CUDA appears when torch finds a GPU</source>
        <translation>CUDA apparaît quand torch trouve un GPU</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="98"/>
        <source>Epochs</source>
        <translation>Époques</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="33"/>
        <source>Earth Engine</source>
        <translation>Earth Engine</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="39"/>
        <source>Google Cloud project id, e.g. my-ee-project</source>
        <translation>Identifiant du projet Google Cloud, par ex. mon-projet-ee</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="40"/>
        <source>Cloud project</source>
        <translation>Projet Cloud</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="173"/>
        <source>Sign in…</source>
        <translation>Se connecter…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="144"/>
        <source>Cancel sign-in</source>
        <translation>Annuler la connexion</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="133"/>
        <source>Sign-in cancelled.</source>
        <translation>Connexion annulée.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="57"/>
        <source>Opens your browser to sign in to Google Earth Engine</source>
        <translation>Ouvre votre navigateur pour vous connecter à Google Earth Engine</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="61"/>
        <source>Connect</source>
        <translation>Connecter</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="62"/>
        <source>Start an Earth Engine session with the saved credentials</source>
        <translation>Ouvrir une session Earth Engine avec les identifiants enregistrés</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="79"/>
        <source>Not signed in to Earth Engine.</source>
        <translation>Non connecté à Earth Engine.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="51"/>
        <source>Run</source>
        <translation>Calcul</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="53"/>
        <source>Adapt &amp;&amp; Map</source>
        <translation>Adapter et cartographier</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="57"/>
        <source>Cancel</source>
        <translation>Annuler</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="54"/>
        <source>Results</source>
        <translation>Résultats</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="56"/>
        <source>No results yet.</source>
        <translation>Pas encore de résultats.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="79"/>
        <source>RMSE</source>
        <translation>RMSE</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="79"/>
        <source>ubRMSE</source>
        <translation>ubRMSE</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="79"/>
        <source>Bias</source>
        <translation>Biais</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/dock.py" line="246"/>
        <source>Detecting a GPU</source>
        <translation>Détection d'un GPU</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="170"/>
        <source>CUDA ({gpu})</source>
        <translation>CUDA ({gpu})</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="128"/>
        <source>Drag a rectangle on the map.</source>
        <translation>Tracez un rectangle sur la carte.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="128"/>
        <source>Click the vertices; right-click or double-click to finish.</source>
        <translation>Cliquez les sommets ; clic droit ou double-clic pour terminer.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/area_map.py" line="55"/>
        <source>drawn area</source>
        <translation>zone dessinée</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="178"/>
        <source>The area cannot be used: {error}</source>
        <translation>La zone ne peut pas être utilisée : {error}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="203"/>
        <source>choose a polygon layer first</source>
        <translation>choisissez d'abord une couche de polygones</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="217"/>
        <source>typed extent</source>
        <translation>emprise saisie</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="117"/>
        <source>Station files</source>
        <translation>Fichiers de stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="117"/>
        <source>Station files (*.stm *.csv *.txt *.zip);;All files (*)</source>
        <translation>Fichiers de stations (*.stm *.csv *.txt *.zip);;Tous les fichiers (*)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="128"/>
        <source>Folder of station files</source>
        <translation>Dossier de fichiers de stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="141"/>
        <source>Reading station files…</source>
        <translation>Lecture des fichiers de stations…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="143"/>
        <source>Reading station files</source>
        <translation>Lecture des fichiers de stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="183"/>
        <source>{station} ({network}): {samples} days, {first} to {last}</source>
        <translation>{station} ({network}) : {samples} jours, du {first} au {last}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="200"/>
        <source>{n} warnings: {first}</source>
        <translation>{n} avertissements : {first}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="30"/>
        <source>Choose an area of interest first.</source>
        <translation>Choisissez d'abord une zone d'intérêt.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="128"/>
        <source>Searching Sentinel-1 acquisitions from {start} to {end}…</source>
        <translation>Recherche des acquisitions Sentinel-1 du {start} au {end}…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="134"/>
        <source>Finding Sentinel-1 dates</source>
        <translation>Recherche des dates Sentinel-1</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="165"/>
        <source>{n} acquisitions. Tick the dates to map.</source>
        <translation>{n} acquisitions. Cochez les dates à cartographier.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="169"/>
        <source>No Sentinel-1 acquisition in that period; try another date.</source>
        <translation>Aucune acquisition Sentinel-1 sur cette période ; essayez une autre date.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="101"/>
        <source>Connecting to Earth Engine…</source>
        <translation>Connexion à Earth Engine…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="102"/>
        <source>Connecting to Earth Engine</source>
        <translation>Connexion à Earth Engine</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="124"/>
        <source>Waiting for the sign-in in your browser…</source>
        <translation>En attente de la connexion dans votre navigateur…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="137"/>
        <source>Signing in to Earth Engine</source>
        <translation>Connexion à Earth Engine (navigateur)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="176"/>
        <source>Earth Engine: {state}</source>
        <translation>Earth Engine : {state}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="32"/>
        <source>Load stations and tick at least one.</source>
        <translation>Chargez des stations et cochez-en au moins une.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="75"/>
        <source>Adapt the models to the stations and map</source>
        <translation>Adapter les modèles aux stations et cartographier</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/dock.py" line="414"/>
        <source>Starting…</source>
        <translation>Démarrage…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/dock.py" line="415"/>
        <source>Soil moisture: Adapt &amp; Map</source>
        <translation>Humidité du sol : adapter et cartographier</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="85"/>
        <source>Cancelling…</source>
        <translation>Annulation…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/dock.py" line="440"/>
        <source>Cancelled; nothing half-written was kept.</source>
        <translation>Annulé ; aucun fichier incomplet n'a été conservé.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/run_layers.py" line="59"/>
        <source>Soil moisture {date}</source>
        <translation>Humidité du sol {date}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/run_layers.py" line="61"/>
        <source>Soil moisture {date}, SMAP blend</source>
        <translation>Humidité du sol {date}, combinée avec SMAP</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/run_layers.py" line="66"/>
        <source>The map {path} could not be opened.</source>
        <translation>La carte {path} n'a pas pu être ouverte.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="103"/>
        <source>Simulated demo data: not a real measurement.</source>
        <translation>Données de démonstration simulées : pas une mesure réelle.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/plugin.py" line="66"/>
        <source>Show the Soil Moisture dock (Adapt &amp; Map)</source>
        <translation>Afficher le panneau Humidité du sol (adapter et cartographier)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/tasks.py" line="92"/>
        <source>Out of memory. Use a smaller area or close other programs; nothing half-written was kept.</source>
        <translation>Mémoire insuffisante. Utilisez une zone plus petite ou fermez d'autres programmes ; aucun fichier incomplet n'a été conservé.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/tasks.py" line="97"/>
        <source>Unexpected error: {error}</source>
        <translation>Erreur inattendue : {error}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/tasks.py" line="109"/>
        <source>Cancelled by the user.</source>
        <translation>Annulé par l'utilisateur.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/tasks.py" line="109"/>
        <source>The task failed.</source>
        <translation>La tâche a échoué.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="146"/>
        <source>{area:,.1f} km², about {cells:,.0f} cells of 50 m</source>
        <translation>{area:,.1f} km², environ {cells:,.0f} cellules de 50 m</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="148"/>
        <source>Too large: the limit is {limit:,.0f} km². Draw a smaller area.</source>
        <translation>Trop grande : la limite est de {limit:,.0f} km². Dessinez une zone plus petite.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/adapters.py" line="152"/>
        <source>Close to the {limit:,.0f} km² limit: runs will be long.</source>
        <translation>Proche de la limite de {limit:,.0f} km² : les calculs seront longs.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="183"/>
        <source>{area:,.1f} km², {cells:,} cells of 50 m</source>
        <translation>{area:,.1f} km², {cells:,} cellules de 50 m</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="37"/>
        <source>(optional)</source>
        <translation>(facultatif)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="194"/>
        <source>1 file</source>
        <translation>1 fichier</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/dock.py" line="449"/>
        <source>1 map</source>
        <translation>1 carte</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="194"/>
        <source>1 sensor</source>
        <translation>1 capteur</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="194"/>
        <source>1 station</source>
        <translation>1 station</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="219"/>
        <source>1 station is</source>
        <translation>1 station est</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="142"/>
        <source>; it beats {others}</source>
        <translation> ; elle fait mieux que {others}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="321"/>
        <source>Internal error {kind}: {error}. Nothing half-written was kept. This is a defect of the plugin: please report it with the details from the Soil Moisture tab of the Log Messages panel.</source>
        <translation>Erreur interne {kind} : {error}. Rien d'écrit à moitié n'a été conservé. C'est un défaut de l'extension : signalez-le avec les détails de l'onglet Soil Moisture du panneau Journal des messages.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="307"/>
        <source>A Python package could not be imported: {error}</source>
        <translation>Un paquet Python n'a pas pu être importé : {error}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="187"/>
        <source>A Python package is missing: {names}.</source>
        <translation>Un paquet Python manque : {names}.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="94"/>
        <source>Add ISMN or CSV station files:</source>
        <translation>Ajouter des fichiers de stations ISMN ou CSV :</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="164"/>
        <source>Input check passed: the pretrained model is within {rmse:.3f} {unit} of SMAP over the area (about {ref:.2f} in its training).</source>
        <translation>Contrôle des entrées réussi : le modèle préentraîné est à {rmse:.3f} {unit} de SMAP sur la zone (environ {ref:.2f} lors de son entraînement).</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="171"/>
        <source>Input check: the pretrained model is {rmse:.3f} {unit} from SMAP over the area, against about {ref:.2f} in its training; an input may be mis-prepared, or the area unlike the training areas (see the report).</source>
        <translation>Contrôle des entrées : le modèle préentraîné est à {rmse:.3f} {unit} de SMAP sur la zone, contre environ {ref:.2f} lors de son entraînement ; une entrée est peut-être mal préparée, ou la zone diffère des zones d'entraînement (voir le rapport).</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="180"/>
        <source>Inputs far outside what the model saw: {names}.</source>
        <translation>Entrées très éloignées de ce que le modèle a vu : {names}.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="118"/>
        <source>At stations left out of training, the most accurate is {best} (RMSE {rmse:.3f} {unit}).</source>
        <translation>Aux stations écartées de l'apprentissage, la plus précise est : {best} (RMSE {rmse:.3f} {unit}).</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="83"/>
        <source>Build:</source>
        <translation>Version :</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="85"/>
        <source>CPU (smaller download, works everywhere)</source>
        <translation>CPU (téléchargement plus léger, fonctionne partout)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="66"/>
        <source>Check connection</source>
        <translation>Vérifier la connexion</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="152"/>
        <source>Checking Earth Engine: one tiny request per dataset…</source>
        <translation>Vérification d'Earth Engine : une petite requête par jeu de données…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="245"/>
        <source>Checking pip…</source>
        <translation>Vérification de pip…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="158"/>
        <source>Checking the Earth Engine connection</source>
        <translation>Vérification de la connexion Earth Engine</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="100"/>
        <source>Could not find the Python that QGIS runs, so nothing was installed. Install the packages by hand (see the command below).</source>
        <translation>Le Python qu'utilise QGIS est introuvable : rien n'a été installé. Installez les paquets à la main (voir la commande ci-dessous).</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="186"/>
        <source>Could not reach the Python package index (pypi.org). Check the internet connection or the proxy (QGIS Settings &gt; Options &gt; Network), then click Install again. Nothing was changed. pip&apos;s log: {log}</source>
        <translation>L'index des paquets Python (pypi.org) est injoignable. Vérifiez la connexion Internet ou le proxy (Préférences &gt; Options &gt; Réseau de QGIS), puis cliquez de nouveau sur Installer. Rien n'a été modifié. Journal de pip : {log}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="216"/>
        <source>Could not remove {folder}: {error}. Close QGIS and delete it.</source>
        <translation>Impossible de supprimer {folder} : {error}. Fermez QGIS et supprimez-le.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="301"/>
        <source>Could not start {python}: {error}</source>
        <translation>Impossible de lancer {python} : {error}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="100"/>
        <source>Demo</source>
        <translation>Démo</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/dock.py" line="449"/>
        <source>Done: {maps} in {folder}</source>
        <translation>Terminé : {maps} dans {folder}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="265"/>
        <source>Downloading the packages (about 1 GB)…</source>
        <translation>Téléchargement des paquets (environ 1 Go)…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="363"/>
        <source>Downloading {name}…</source>
        <translation>Téléchargement de {name}…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="87"/>
        <source>Draw on the map, or use the demo area:</source>
        <translation>Dessinez sur la carte, ou utilisez la zone de démo :</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="82"/>
        <source>Errors in m³/m³. Held out: predicted without the station's own data.</source>
        <translation>Erreurs en m³/m³. Hors apprentissage : prédit sans les données de la station elle-même.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="36"/>
        <source>Every Python package the plugin needs is installed.</source>
        <translation>Tous les paquets Python dont l'extension a besoin sont installés.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="95"/>
        <source>Files…</source>
        <translation>Fichiers…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="98"/>
        <source>Folder…</source>
        <translation>Dossier…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="92"/>
        <source>Install</source>
        <translation>Installer</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/plugin.py" line="82"/>
        <source>Install dependencies…</source>
        <translation>Installer les dépendances…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="126"/>
        <source>Install or remove the Python packages the plugin needs (torch, shapely, …)</source>
        <translation>Installer ou supprimer les paquets Python dont l'extension a besoin (torch, shapely, …)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="489"/>
        <source>Install pip for {python} with your system&apos;s package manager.</source>
        <translation>Installez pip pour {python} avec le gestionnaire de paquets du système.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="330"/>
        <source>Installation cancelled; nothing was changed.</source>
        <translation>Installation annulée ; rien n'a été modifié.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="185"/>
        <source>Installed. Adapt &amp; Map is ready; no restart needed. pip&apos;s log: {log}</source>
        <translation>Installé. Adapter et cartographier est prêt, sans redémarrage. Journal de pip : {log}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="160"/>
        <source>Installing the Soil Moisture packages</source>
        <translation>Installation des paquets de Humidité du sol</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="203"/>
        <source>Map date moved to {date}: the demo scene covers {first} to {last}.</source>
        <translation>Date de la carte déplacée au {date} : la scène de démo couvre du {first} au {last}.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="271"/>
        <source>Moving the packages into place…</source>
        <translation>Mise en place des paquets…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="89"/>
        <source>NVIDIA GPU (CUDA, about 3 GB more)</source>
        <translation>GPU NVIDIA (CUDA, environ 3 Go de plus)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="95"/>
        <source>No held-out check was run (cross-validation off, or a single station): the fit to the stations (RMSE {rmse:.3f} {unit}) flatters the map. Tick cross-validation to know how it does at places without a station.</source>
        <translation>Aucun contrôle hors apprentissage (validation croisée désactivée, ou une seule station) : l'ajustement aux stations (RMSE {rmse:.3f} {unit}) flatte la carte. Cochez la validation croisée pour savoir ce qu'elle vaut là où il n'y a pas de station.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="145"/>
        <source>No web browser opened the report. Open this file in one: {path}</source>
        <translation>Aucun navigateur n'a ouvert le rapport. Ouvrez ce fichier dans un navigateur : {path}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="224"/>
        <source>Nothing to remove.</source>
        <translation>Rien à supprimer.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="67"/>
        <source>One tiny request per dataset: says what works and what to do about the rest</source>
        <translation>Une petite requête par jeu de données : dit ce qui fonctionne et que faire pour le reste</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="61"/>
        <source>Open the full report</source>
        <translation>Ouvrir le rapport complet</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="110"/>
        <source>Or install them from a terminal:</source>
        <translation>Ou installez-les depuis un terminal :</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="130"/>
        <source>Packages</source>
        <translation>Paquets</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="91"/>
        <source>Polygon</source>
        <translation>Polygone</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="124"/>
        <source>Python packages…</source>
        <translation>Paquets Python…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="247"/>
        <source>QGIS&apos;s Python ({python}) has no pip, so nothing was installed. {hint}</source>
        <translation>Le Python de QGIS ({python}) n'a pas pip : rien n'a été installé. {hint}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="88"/>
        <source>Rectangle</source>
        <translation>Rectangle</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="117"/>
        <source>Remove installed packages</source>
        <translation>Supprimer les paquets installés</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="224"/>
        <source>Removed {folder}. Restart QGIS to finish.</source>
        <translation>{folder} supprimé. Redémarrez QGIS pour terminer.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="112"/>
        <source>Report: {path}</source>
        <translation>Rapport : {path}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="482"/>
        <source>Run in a Terminal: {python} -m ensurepip</source>
        <translation>Lancez dans un Terminal : {python} -m ensurepip</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="486"/>
        <source>Run in a terminal: sudo apt install python3-pip</source>
        <translation>Lancez dans un terminal : sudo apt install python3-pip</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="488"/>
        <source>Run in a terminal: sudo dnf install python3-pip</source>
        <translation>Lancez dans un terminal : sudo dnf install python3-pip</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="480"/>
        <source>Run the OSGeo4W Setup (or reinstall QGIS) and select the package python3-pip.</source>
        <translation>Lancez l'installateur OSGeo4W (ou réinstallez QGIS) et cochez le paquet python3-pip.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="56"/>
        <source>SMAP 9 km</source>
        <translation>SMAP 9 km</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="57"/>
        <source>Soil Moisture: Python packages</source>
        <translation>Humidité du sol : paquets Python</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/styling.py" line="94"/>
        <source>Soil moisture ({unit})</source>
        <translation>Humidité du sol ({unit})</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/run_layers.py" line="24"/>
        <source>Soil moisture {dates} {method}</source>
        <translation>Humidité du sol {dates} {method}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/styling.py" line="101"/>
        <source>Spread of the 25 models ({unit})</source>
        <translation>Dispersion des 25 modèles ({unit})</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="159"/>
        <source>Starting pip…</source>
        <translation>Démarrage de pip…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="25"/>
        <source>The Earth Engine source needs earthengine-api: install it with Options &gt; Python packages…</source>
        <translation>La source Earth Engine a besoin d'earthengine-api : installez-le avec Options &gt; Paquets Python…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="132"/>
        <source>{subject} beats {others}.</source>
        <translation>{subject} fait mieux que {others}.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="138"/>
        <source>{subject} is less accurate than {others}</source>
        <translation>{subject} est moins précise que {others}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="112"/>
        <source>The adapted map ({rmse:.3f})</source>
        <translation>La carte adaptée ({rmse:.3f})</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="112"/>
        <source>The adapted map blended with SMAP ({rmse:.3f})</source>
        <translation>La carte adaptée combinée avec SMAP ({rmse:.3f})</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="101"/>
        <source>The demo scene&apos;s simulated stations</source>
        <translation>Les stations simulées de la scène de démo</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="192"/>
        <source>The disk is full: the packages need about 1.5 GB. Free some space and click Install again. Nothing was changed. pip&apos;s log: {log}</source>
        <translation>Le disque est plein : les paquets demandent environ 1,5 Go. Libérez de la place et cliquez de nouveau sur Installer. Rien n'a été modifié. Journal de pip : {log}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/dates.py" line="184"/>
        <source>The map date changed: click Find Sentinel-1 dates to list its acquisitions.</source>
        <translation>La date de la carte a changé : cliquez sur Trouver les dates Sentinel-1 pour lister ses acquisitions.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="72"/>
        <source>They go into a folder of the plugin&apos;s own (about 1.5 GB), never into QGIS&apos;s Python: {folder}</source>
        <translation>Ils vont dans un dossier propre à l'extension (environ 1,5 Go), jamais dans le Python de QGIS : {folder}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="366"/>
        <source>Unpacking the packages…</source>
        <translation>Décompression des paquets…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/results.py" line="104"/>
        <source>Weight of the 50 m stations: {reason}</source>
        <translation>Poids des stations à 50 m : {reason}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="55"/>
        <source>XGBoost</source>
        <translation>XGBoost</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="33"/>
        <source>adapted map ({method})</source>
        <translation>carte adaptée ({method})</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="34"/>
        <source>adapted map, fit to its own stations</source>
        <translation>carte adaptée, ajustée à ses propres stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="35"/>
        <source>adapted map blended with SMAP</source>
        <translation>carte adaptée combinée avec SMAP</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>areas of interest</source>
        <translation>les zones d'intérêt</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/earth_engine.py" line="50"/>
        <source>earthengine-api is not installed: install it with Options &gt; Python packages…</source>
        <translation>earthengine-api n'est pas installé : installez-le avec Options &gt; Paquets Python…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="197"/>
        <source>pip could not install the packages (exit code {code}): {last}. Nothing was changed. Attach pip&apos;s log to a bug report: {log}</source>
        <translation>pip n'a pas pu installer les paquets (code de sortie {code}) : {last}. Rien n'a été modifié. Joignez le journal de pip à un rapport de bogue : {log}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/packages.py" line="191"/>
        <source>pip finished but {names} still cannot be imported. Restart QGIS; if it persists, attach pip&apos;s log to a bug report: {log}</source>
        <translation>pip a terminé mais {names} ne peut toujours pas être importé. Redémarrez QGIS ; si cela persiste, joignez le journal de pip à un rapport de bogue : {log}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="36"/>
        <source>pretrained model (no adaptation)</source>
        <translation>modèle préentraîné (sans adaptation)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="37"/>
        <source>pretrained model blended with SMAP</source>
        <translation>modèle préentraîné combiné avec SMAP</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>projections</source>
        <translation>les projections</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="54"/>
        <source>random forest</source>
        <translation>forêt aléatoire</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>reading and writing rasters</source>
        <translation>la lecture et l'écriture des rasters</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="156"/>
        <source>shapely has to be built for the GEOS library QGIS uses (the ready-made one crashes QGIS on Linux), and this system lacks {lacking}. Install them with {command}, then click Install again. Nothing was changed.</source>
        <translation>shapely doit être compilé pour la bibliothèque GEOS qu'utilise QGIS (la version toute faite fait planter QGIS sous Linux), et il manque à ce système : {lacking}. Installez-les avec {command}, puis cliquez de nouveau sur Installer. Rien n'a été modifié.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>station time series</source>
        <translation>les séries temporelles des stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>statistics and smoothing</source>
        <translation>les statistiques et le lissage</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>the XGBoost comparison</source>
        <translation>la comparaison avec XGBoost</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>the charts of the validation report</source>
        <translation>les graphiques du rapport de validation</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>the deep networks (Adapt &amp; Map, Map with an ensemble)</source>
        <translation>les réseaux profonds (Adapter et cartographier, Cartographier avec un ensemble)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>the input cache and Parquet station files</source>
        <translation>le cache des entrées et les fichiers de stations Parquet</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="46"/>
        <source>the random forest comparison</source>
        <translation>la comparaison avec la forêt aléatoire</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/installer.py" line="155"/>
        <source>your package manager: GEOS development files, Python headers, a C compiler</source>
        <translation>votre gestionnaire de paquets : fichiers de développement GEOS, en-têtes Python, un compilateur C</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="183"/>
        <source>{count} Python packages are missing: {names} and {more} more.</source>
        <translation>{count} paquets Python manquent : {names} et {more} autres.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/deps.py" line="188"/>
        <source>{count} Python packages are missing: {names}.</source>
        <translation>{count} paquets Python manquent : {names}.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="216"/>
        <source>{count} far from the area (more than {limit} km): {names}. Stations outside the area are not used; check the files or the area.</source>
        <translation>{count} loin de la zone (plus de {limit} km) : {names}. Les stations hors de la zone ne sont pas utilisées ; vérifiez les fichiers ou la zone.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="194"/>
        <source>{n} files</source>
        <translation>{n} fichiers</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/dock.py" line="449"/>
        <source>{n} maps</source>
        <translation>{n} cartes</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="194"/>
        <source>{n} sensors</source>
        <translation>{n} capteurs</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="194"/>
        <source>{n} stations</source>
        <translation>{n} stations</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="219"/>
        <source>{n} stations are</source>
        <translation>{n} stations sont</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/stations.py" line="194"/>
        <source>{stations} ({sensors}) from {inputs}.</source>
        <translation>{stations} ({sensors}) dans {inputs}.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="89"/>
        <source>{summary} Install them from the Soil Moisture dock (Options &gt; Python packages…) or with: {command}</source>
        <translation>{summary} Installez-les depuis le panneau Humidité du sol (Options &gt; Paquets Python…) ou avec : {command}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/run.py" line="21"/>
        <source>{summary} Install them with Options &gt; Python packages…</source>
        <translation>{summary} Installez-les avec Options &gt; Paquets Python…</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/plugin.py" line="78"/>
        <source>{summary} The plugin can install what is missing.</source>
        <translation>{summary} L'extension peut installer ce qui manque.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/area.py" line="156"/>
        <source>The demo scene only covers longitudes {lon0} to {lon1} and latitudes {lat0} to {lat1}: draw inside it (Demo area), or use Earth Engine for other places.</source>
        <translation>La scène de démo ne couvre que les longitudes {lon0} à {lon1} et les latitudes {lat0} à {lat1} : dessinez à l'intérieur (Zone de démo), ou utilisez Earth Engine ailleurs.</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="31"/>
        <source>the {name}</source>
        <translation>{name}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="49"/>
        <source>{method} map</source>
        <translation>carte {method}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="50"/>
        <source>{method} fit</source>
        <translation>ajustement {method}</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="51"/>
        <source>{method}+SMAP</source>
        <translation>{method}+SMAP</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="52"/>
        <source>pretrained</source>
        <translation>préentraîné</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="53"/>
        <source>pretrained+SMAP</source>
        <translation>préentraîné+SMAP</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="61"/>
        <source>{name}, held out</source>
        <translation>{name}, hors apprentissage</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/results.py" line="61"/>
        <source>{name}, in sample</source>
        <translation>{name}, dans l'échantillon</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="71"/>
        <source>Batch statistics (the method as published)</source>
        <translation>Statistiques du lot (la méthode telle que publiée)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/base.py" line="71"/>
        <source>Pretrained statistics (the default)</source>
        <translation>Statistiques pré-entraînées (par défaut)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="136"/>
        <source>BatchNorm during adaptation</source>
        <translation>BatchNorm pendant l'adaptation</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="109"/>
        <source>BatchNorm</source>
        <translation>BatchNorm</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="102"/>
        <source>How BatchNorm normalises while the ensemble adapts: by the pretrained statistics (the default; carries over better to stations left out of training) or by each batch&apos;s own (the method as published)</source>
        <translation>Comment BatchNorm normalise pendant l'adaptation de l'ensemble : par les statistiques du pré-entraînement (par défaut ; se transpose mieux aux stations exclues de l'entraînement) ou par celles de chaque lot (la méthode telle que publiée)</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/algorithms/adapt_map.py" line="146"/>
        <source>Keep the 50 m map consistent with SMAP at 9 km</source>
        <translation>Garder la carte à 50 m cohérente avec SMAP à 9 km</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="110"/>
        <source>Match SMAP at 9 km</source>
        <translation>Accorder à SMAP à 9 km</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="119"/>
        <source>Consistency</source>
        <translation>Cohérence</translation>
    </message>
    <message>
        <location filename="../soilmoisture_plugin/gui/sections/method.py" line="112"/>
        <source>While adapting, draw the mean of the 50 m predictions of each 9 km cell toward its SMAP value on every training date (MS and MSDA). Off: the method as published</source>
        <translation>Pendant l'adaptation, rapprocher la moyenne des prédictions à 50 m de chaque cellule de 9 km de sa valeur SMAP à chaque date d'entraînement (MS et MSDA). Désactivé : la méthode telle que publiée</translation>
    </message>
</context>
</TS>
