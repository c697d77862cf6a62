//! The server's integration tests, one binary (one link): the real server on
//! loopback over SQLite and PostgreSQL (see `common`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod common;
mod openapi;
mod pings;
mod reports;
mod sync;
