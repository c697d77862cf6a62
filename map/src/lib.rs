//! # safelane-map
//!
//! The server side of speeding thresholds:
//! - [`sources`]: roads from OpenStreetMap PBF extracts and GeoJSON;
//! - [`maxspeed`]: `maxspeed` values in all their usual forms;
//! - [`tiles`]: roads cut into segments and encoded into the binary tiles
//!   the phone reads in place (`safelane_core::tile`);
//! - [`profile`]: crowd speed thresholds from many drivers' pings, in bounded
//!   memory, written back into tiles.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod maxspeed;
pub mod profile;
pub mod sources;
pub mod store;
pub mod tiles;
