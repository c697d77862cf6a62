//! The pipeline never touches the heap: a counting global allocator sees zero
//! allocations while a whole simulated trip is pushed and its events pulled.
#![allow(unsafe_code)] // GlobalAlloc is an unsafe trait; this file only counts and forwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use safelane_core::{Pipeline, PipelineConfig};
use safelane_fixtures::{scenario, simulate};
use safelane_trip::Input;

struct Counting;

thread_local! {
    /// Only this thread's allocations count (tests run on several threads).
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    }
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

fn reset() {
    ALLOCATIONS.with(|c| c.set(0));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_whole_trip_allocates_nothing() {
    for name in [
        "city-dash",
        "drop-and-pickup",
        "moto-handlebar",
        "crash",
        "bad-sensors",
    ] {
        let mut s = scenario::by_name(name).unwrap();
        s.duration_s = s.duration_s.min(300.0);
        let trip = simulate(&s, 1);
        let inputs = trip.inputs();
        let cfg = if name.starts_with("moto") {
            PipelineConfig::motorcycle()
        } else {
            PipelineConfig::car()
        };
        let mut p = Pipeline::new(cfg).unwrap();
        let mut events = 0usize;
        let mut samples = 0usize;

        reset();
        ARMED.with(|a| a.set(true));
        for input in &inputs {
            match input {
                Input::Imu(s) => {
                    samples += usize::from(p.push_imu(s).is_ok());
                }
                Input::Gps(g) => {
                    let _ = p.push_gps(g);
                }
            }
            while p.pop_event().is_some() {
                events += 1;
            }
        }
        p.finish();
        while p.pop_event().is_some() {
            events += 1;
        }
        let _ = p.orientation();
        ARMED.with(|a| a.set(false));

        assert!(samples > 10_000, "{name}: {samples}");
        assert_eq!(
            allocations(),
            0,
            "{name}: {samples} samples, {events} events"
        );
    }
}

#[test]
fn tile_parsing_map_matching_and_speeding_allocate_nothing() {
    use safelane_fixtures::speeding::{World, drive};
    let world = World::new(1);
    let cfg = PipelineConfig::car();
    let trip = drive(&world, 1, &cfg.speeding);
    let bytes: Vec<&[u8]> = world.tiles.values().map(Vec::as_slice).collect();
    let mut p = Pipeline::new(cfg).unwrap();
    let mut violations = 0usize;
    reset();
    ARMED.with(|a| a.set(true));
    // Tiles parsed into a fixed array, as a phone would hold the few around it.
    let n = bytes.len().min(64);
    let mut held = [safelane_core::Tile::parse(bytes[0]).unwrap(); 64];
    for (h, b) in held.iter_mut().zip(&bytes) {
        *h = safelane_core::Tile::parse(b).unwrap();
    }
    for f in &trip.fixes {
        let _ = p.push_gps_on_map(f, &held[..n], Some(trip.hour_of_week));
        while p.pop_speeding().is_some() {
            violations += 1;
        }
    }
    p.finish();
    while p.pop_speeding().is_some() {
        violations += 1;
    }
    ARMED.with(|a| a.set(false));
    assert!(violations > 3, "{violations}");
    assert_eq!(
        allocations(),
        0,
        "{} fixes, {violations} violations",
        trip.fixes.len()
    );
}

#[test]
fn the_counter_counts() {
    reset();
    ARMED.with(|a| a.set(true));
    let v: Vec<u64> = Vec::with_capacity(16);
    ARMED.with(|a| a.set(false));
    drop(v);
    assert!(allocations() >= 1, "the allocator must be the counting one");
}
