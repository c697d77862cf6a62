//! Map data in: OpenStreetMap PBF extracts (through `osmpbf`) and GeoJSON
//! LineStrings with `maxspeed` and `highway` properties.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safelane_core::{LimitSource, RoadCategory};

use crate::maxspeed::{Maxspeed, is_zone_code, parse_maxspeed};
use crate::tiles::Road;

/// Why map data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The PBF decoder failed.
    #[error("{path}: not a readable OSM PBF file: {message}")]
    Pbf {
        /// The file.
        path: String,
        /// The decoder's message.
        message: String,
    },
    /// The GeoJSON is malformed; names the feature and the field.
    #[error("{path}: {location}: {message}")]
    GeoJson {
        /// The file.
        path: String,
        /// e.g. `features[3].geometry.coordinates[2]`.
        location: String,
        /// What is wrong.
        message: String,
    },
}

/// What a read found, for the build report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceStats {
    /// Drivable ways (or features) read.
    pub roads: u64,
    /// Ways cut at the extract's edge (some nodes missing): the parts inside
    /// are kept as separate roads.
    pub clipped: u64,
    /// Features or ways skipped (not drivable, no geometry).
    pub skipped: u64,
    /// Roads with a posted limit.
    pub posted: u64,
    /// Roads with a zone (implicit) limit.
    pub zone: u64,
    /// Roads tagged `maxspeed=none`.
    pub no_limit: u64,
    /// Roads with no usable `maxspeed`.
    pub unknown: u64,
    /// `maxspeed` values not understood, with their counts.
    pub unparsed: BTreeMap<String, u64>,
}

impl SourceStats {
    fn count(&mut self, m: Maxspeed, raw: Option<&str>) {
        self.roads += 1;
        match m {
            Maxspeed::Limit {
                source: LimitSource::Zone,
                ..
            } => self.zone += 1,
            Maxspeed::Limit { .. } => self.posted += 1,
            Maxspeed::NoLimit => self.no_limit += 1,
            Maxspeed::Unknown => {
                self.unknown += 1;
                if let Some(v) = raw {
                    *self.unparsed.entry(v.to_owned()).or_default() += 1;
                }
            }
        }
    }
}

/// The tags a road needs, however they were read.
#[derive(Debug, Default)]
struct RoadTags<'a> {
    highway: Option<&'a str>,
    maxspeed: Option<&'a str>,
    maxspeed_source: Option<&'a str>,
    oneway: Option<&'a str>,
    roundabout: bool,
}

impl<'a> RoadTags<'a> {
    fn take(&mut self, k: &str, v: &'a str) {
        match k {
            "highway" => self.highway = Some(v),
            "maxspeed" => self.maxspeed = Some(v),
            "source:maxspeed" | "maxspeed:type" => self.maxspeed_source = Some(v),
            "oneway" => self.oneway = Some(v),
            "junction" => self.roundabout |= v == "roundabout" || v == "circular",
            _ => {}
        }
    }

    fn category(&self) -> Option<RoadCategory> {
        self.highway.and_then(RoadCategory::from_osm_highway)
    }

    /// (one-way, reversed).
    fn oneway(&self, category: RoadCategory) -> (bool, bool) {
        match self.oneway {
            Some("yes" | "true" | "1") => (true, false),
            Some("-1" | "reverse") => (true, true),
            Some("no" | "false" | "0") => (false, false),
            _ => (
                self.roundabout
                    || (category == RoadCategory::Motorway && self.highway == Some("motorway")),
                false,
            ),
        }
    }

    fn maxspeed(&self) -> Maxspeed {
        let Some(raw) = self.maxspeed else {
            // No number, but an implicit zone said in the source tag.
            return match self.maxspeed_source {
                Some(code) if is_zone_code(code) => parse_maxspeed(code),
                _ => Maxspeed::Unknown,
            };
        };
        match parse_maxspeed(raw) {
            // A number whose source tag says it comes from a zone rule.
            Maxspeed::Limit { kmh, .. } if self.maxspeed_source.is_some_and(is_zone_code) => {
                Maxspeed::Limit {
                    kmh,
                    source: LimitSource::Zone,
                }
            }
            m => m,
        }
    }

    fn road(
        &self,
        way_id: u64,
        mut points: Vec<(f64, f64)>,
        stats: &mut SourceStats,
    ) -> Option<Road> {
        let category = self.category()?;
        if points.len() < 2 {
            return None;
        }
        let (oneway, reversed) = self.oneway(category);
        if reversed {
            points.reverse();
        }
        let maxspeed = self.maxspeed();
        stats.count(maxspeed, self.maxspeed);
        Some(Road {
            way_id,
            category,
            oneway,
            maxspeed,
            points,
        })
    }
}

/// A way as read from the PBF: id, node ids, the tags roads need.
type OsmWay = (u64, Vec<i64>, Vec<(String, String)>);

/// Reads the drivable roads of an OpenStreetMap PBF extract.
pub fn read_osm_pbf(path: &Path) -> Result<(Vec<Road>, SourceStats), SourceError> {
    use osmpbf::{Element, IndexedReader};
    let name = path.display().to_string();
    let pbf_err = |e: osmpbf::Error| SourceError::Pbf {
        path: name.clone(),
        message: e.to_string(),
    };
    let mut reader = IndexedReader::from_path(path).map_err(pbf_err)?;
    let mut ways: Vec<OsmWay> = Vec::new();
    let mut nodes: HashMap<i64, (f64, f64)> = HashMap::new();
    reader
        .read_ways_and_deps(
            |way| {
                way.tags()
                    .any(|(k, v)| k == "highway" && RoadCategory::from_osm_highway(v).is_some())
            },
            |element| match element {
                Element::Way(w) => {
                    let tags = w
                        .tags()
                        .filter(|(k, _)| {
                            matches!(
                                *k,
                                "highway"
                                    | "maxspeed"
                                    | "source:maxspeed"
                                    | "maxspeed:type"
                                    | "oneway"
                                    | "junction"
                            )
                        })
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect();
                    ways.push((w.id() as u64, w.refs().collect(), tags));
                }
                Element::Node(n) => {
                    nodes.insert(n.id(), (n.lat(), n.lon()));
                }
                Element::DenseNode(n) => {
                    nodes.insert(n.id(), (n.lat(), n.lon()));
                }
                Element::Relation(_) => {}
            },
        )
        .map_err(pbf_err)?;
    let mut stats = SourceStats::default();
    let mut roads = Vec::with_capacity(ways.len());
    ways.sort_by_key(|w| w.0);
    for (id, refs, tags) in &ways {
        let mut t = RoadTags::default();
        for (k, v) in tags {
            t.take(k, v);
        }
        // Runs of nodes present in the extract (a way leaving a clipped
        // extract loses the nodes outside).
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for r in refs {
            match nodes.get(r) {
                Some(&p) => {
                    if let Some(run) = runs.last_mut() {
                        run.push(p);
                    }
                }
                None => runs.push(Vec::new()),
            }
        }
        runs.retain(|r| r.len() >= 2);
        if runs.len() != 1 || runs[0].len() != refs.len() {
            stats.clipped += 1;
        }
        if runs.is_empty() {
            stats.skipped += 1;
        }
        for (part, points) in runs.into_iter().enumerate() {
            // Parts get their own ids in the upper bits, like MultiLineStrings.
            match t.road(*id + ((part as u64) << 40), points, &mut stats) {
                Some(r) => roads.push(r),
                None => stats.skipped += 1,
            }
        }
    }
    Ok((roads, stats))
}

/// Reads GeoJSON LineString / MultiLineString features with `highway`,
/// `maxspeed` (string or number, km/h) and optional `oneway` properties; the
/// way id is the feature's `id` (or `properties.osm_id`), else its index + 1.
pub fn read_geojson(path: &Path) -> Result<(Vec<Road>, SourceStats), SourceError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SourceError::Io {
        path: name.clone(),
        source,
    })?;
    parse_geojson(&text, &name)
}

/// [`read_geojson`] on a string; `name` is used in errors.
pub fn parse_geojson(text: &str, name: &str) -> Result<(Vec<Road>, SourceStats), SourceError> {
    let err = |location: String, message: &str| SourceError::GeoJson {
        path: name.to_owned(),
        location,
        message: message.to_owned(),
    };
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        err(
            format!("line {} column {}", e.line(), e.column()),
            &e.to_string(),
        )
    })?;
    let features = match doc.get("type").and_then(|t| t.as_str()) {
        Some("FeatureCollection") => doc
            .get("features")
            .and_then(|f| f.as_array())
            .ok_or_else(|| err("features".into(), "must be an array"))?
            .as_slice(),
        Some("Feature") => std::slice::from_ref(&doc),
        _ => return Err(err("type".into(), "must be FeatureCollection or Feature")),
    };
    let mut stats = SourceStats::default();
    let mut roads = Vec::new();
    for (i, f) in features.iter().enumerate() {
        let at = |field: &str| format!("features[{i}].{field}");
        let props = f.get("properties").filter(|p| p.is_object());
        let text_prop = |k: &str| -> Option<String> {
            match props?.get(k)? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(if *b { "yes".into() } else { "no".into() }),
                _ => None,
            }
        };
        let (highway, maxspeed, oneway, source) = (
            text_prop("highway"),
            text_prop("maxspeed"),
            text_prop("oneway"),
            text_prop("source:maxspeed"),
        );
        let mut tags = RoadTags::default();
        for (k, v) in [
            ("highway", &highway),
            ("maxspeed", &maxspeed),
            ("oneway", &oneway),
            ("source:maxspeed", &source),
        ] {
            if let Some(v) = v {
                tags.take(k, v);
            }
        }
        if tags.category().is_none() {
            stats.skipped += 1;
            continue;
        }
        let id = f
            .get("id")
            .and_then(|v| v.as_u64())
            .or_else(|| props.and_then(|p| p.get("osm_id")).and_then(|v| v.as_u64()))
            .unwrap_or(i as u64 + 1);
        let geom = f
            .get("geometry")
            .filter(|g| g.is_object())
            .ok_or_else(|| err(at("geometry"), "missing"))?;
        let coords = geom
            .get("coordinates")
            .and_then(|c| c.as_array())
            .ok_or_else(|| err(at("geometry.coordinates"), "must be an array"))?;
        let lines: Vec<&Vec<serde_json::Value>> = match geom.get("type").and_then(|t| t.as_str()) {
            Some("LineString") => vec![coords],
            Some("MultiLineString") => coords
                .iter()
                .map(|l| l.as_array())
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| err(at("geometry.coordinates"), "must be arrays of positions"))?,
            _ => {
                stats.skipped += 1;
                continue;
            }
        };
        for (li, line) in lines.into_iter().enumerate() {
            let mut points = Vec::with_capacity(line.len());
            for (pi, p) in line.iter().enumerate() {
                let pos = p.as_array().filter(|a| a.len() >= 2);
                let lon = pos.and_then(|a| a[0].as_f64());
                let lat = pos.and_then(|a| a[1].as_f64());
                match (lat, lon) {
                    (Some(lat), Some(lon)) if lat.abs() <= 90.0 && lon.abs() <= 180.0 => {
                        points.push((lat, lon));
                    }
                    _ => {
                        return Err(err(
                            at(&format!("geometry.coordinates[{pi}]")),
                            "must be [lon, lat] in degrees",
                        ));
                    }
                }
            }
            // Parts of a MultiLineString get their own ids in the upper bits.
            let way_id = id + ((li as u64) << 40);
            match tags.road(way_id, points, &mut stats) {
                Some(r) => roads.push(r),
                None => stats.skipped += 1,
            }
        }
    }
    Ok((roads, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geojson_roads_with_every_maxspeed_form() {
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","id":11,"properties":{"highway":"residential","maxspeed":"30"},
           "geometry":{"type":"LineString","coordinates":[[24.9,60.1],[24.91,60.1]]}},
          {"type":"Feature","properties":{"highway":"primary","maxspeed":50,"oneway":"-1"},
           "geometry":{"type":"LineString","coordinates":[[24.9,60.2],[24.91,60.2]]}},
          {"type":"Feature","properties":{"highway":"secondary","maxspeed":"30 mph"},
           "geometry":{"type":"LineString","coordinates":[[24.9,60.3],[24.91,60.3]]}},
          {"type":"Feature","properties":{"highway":"tertiary","source:maxspeed":"FI:urban"},
           "geometry":{"type":"LineString","coordinates":[[24.9,60.4],[24.91,60.4]]}},
          {"type":"Feature","properties":{"highway":"footway","maxspeed":"5"},
           "geometry":{"type":"LineString","coordinates":[[24.9,60.5],[24.91,60.5]]}},
          {"type":"Feature","properties":{"highway":"unclassified","maxspeed":"signals"},
           "geometry":{"type":"LineString","coordinates":[[24.9,60.6],[24.91,60.6]]}}
        ]}"#;
        let (roads, stats) = parse_geojson(text, "t.geojson").unwrap();
        assert_eq!(roads.len(), 5);
        assert_eq!(roads[0].way_id, 11);
        assert_eq!(roads[1].way_id, 2);
        assert!(roads[1].oneway);
        assert_eq!(
            roads[1].points[0],
            (60.2, 24.91),
            "oneway=-1 is stored reversed"
        );
        assert_eq!(
            roads[3].maxspeed,
            Maxspeed::Limit {
                kmh: 50.0,
                source: LimitSource::Zone
            }
        );
        assert_eq!(
            (stats.posted, stats.zone, stats.unknown, stats.skipped),
            (3, 1, 1, 1)
        );
        assert_eq!(stats.unparsed.get("signals"), Some(&1));
    }

    #[test]
    fn malformed_geojson_names_the_place() {
        let e = parse_geojson("{\"type\":\"FeatureCollection\",\"features\":[", "t").unwrap_err();
        assert!(e.to_string().starts_with("t: line 1"), "{e}");
        let text = r#"{"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"highway":"primary"},
           "geometry":{"type":"LineString","coordinates":[[24.9,60.1],[24.9,"x"]]}}]}"#;
        let e = parse_geojson(text, "t").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t: features[0].geometry.coordinates[1]: must be [lon, lat] in degrees"
        );
    }
}
