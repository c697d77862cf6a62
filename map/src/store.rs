//! Tile folders on disk: one `<geohash>.slmt` file per tile, a
//! `manifest.csv` (tile, bytes, segments, crowd thresholds) and the data's
//! attribution.

use std::collections::BTreeMap;
use std::path::Path;

use safelane_core::Tile;

use crate::sources::{SourceError, read_geojson};
use crate::tiles::{BuildOptions, build_tiles, split_roads};

/// Tile file extension.
pub const TILE_EXT: &str = "slmt";

/// Why a tile folder could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A tile file is not a valid tile.
    #[error("{path}: {source}")]
    Tile {
        /// The file.
        path: String,
        /// The decoder's verdict.
        source: safelane_core::TileError,
    },
    /// A tile file's name is not its geohash key.
    #[error("{path}: file name does not match the tile's key {key}")]
    Misnamed {
        /// The file.
        path: String,
        /// The key inside.
        key: String,
    },
    /// Map data could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Tiles could not be built.
    #[error(transparent)]
    Build(#[from] crate::tiles::BuildError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes tiles, the manifest and an attribution file into `dir` (created).
pub fn write_tile_dir(
    dir: &Path,
    tiles: &BTreeMap<String, Vec<u8>>,
    attribution: &str,
) -> Result<(), StoreError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut manifest = String::from("tile,bytes,segments,crowd_thresholds\n");
    for (key, bytes) in tiles {
        let path = dir.join(format!("{key}.{TILE_EXT}"));
        std::fs::write(&path, bytes).map_err(io(&path))?;
        let t = Tile::parse(bytes).map_err(|source| StoreError::Tile {
            path: path.display().to_string(),
            source,
        })?;
        manifest.push_str(&format!(
            "{key},{},{},{}\n",
            bytes.len(),
            t.segment_count(),
            t.header().crowd_count
        ));
    }
    let path = dir.join("manifest.csv");
    std::fs::write(&path, manifest).map_err(io(&path))?;
    let path = dir.join("ATTRIBUTION.txt");
    std::fs::write(&path, attribution).map_err(io(&path))?;
    Ok(())
}

/// Reads every `*.slmt` tile of a folder, checking each one.
pub fn read_tile_dir(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some(TILE_EXT) {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        let key = Tile::parse(&bytes)
            .map_err(|source| StoreError::Tile {
                path: path.display().to_string(),
                source,
            })?
            .key();
        if path.file_stem().and_then(|s| s.to_str()) != Some(key.as_str()) {
            return Err(StoreError::Misnamed {
                path: path.display().to_string(),
                key: key.as_str().to_owned(),
            });
        }
        out.insert(key.as_str().to_owned(), bytes);
    }
    Ok(out)
}

/// A map for analysis: a tile folder as written by `safelane map build`, or
/// a GeoJSON file built into tiles in memory.
pub fn load_map(path: &Path) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
    if path.is_dir() {
        return read_tile_dir(path);
    }
    let (roads, _) = read_geojson(path)?;
    let opts = BuildOptions::default();
    let segments = split_roads(&roads, opts.max_segment_m)?;
    Ok(build_tiles(&segments, &opts)?)
}

/// Parses every tile of a map (they were checked when loaded; a failure here
/// is reported all the same).
pub fn parse_all(tiles: &BTreeMap<String, Vec<u8>>) -> Result<Vec<Tile<'_>>, StoreError> {
    tiles
        .iter()
        .map(|(k, b)| {
            Tile::parse(b).map_err(|source| StoreError::Tile {
                path: k.clone(),
                source,
            })
        })
        .collect()
}
