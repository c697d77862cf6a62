//! Bare-metal entry point that drives every part of the pipeline, so the
//! linker keeps all of it: `.text` of this image is the core's code size.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use safelane_core::{GpsFix, ImuSample, Pipeline, PipelineConfig};

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}

/// Stands in for a sensor driver: reads values the linker cannot predict.
#[inline(never)]
fn read_sensor(i: u32) -> f32 {
    // black_box makes the value opaque to the optimiser, like a register read.
    core::hint::black_box(i as f32 * 0.001)
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let cfg = if read_sensor(0) > 0.5 {
        PipelineConfig::motorcycle()
    } else {
        PipelineConfig::car()
    };
    let Ok(mut p) = Pipeline::new(cfg) else {
        loop {}
    };
    let mut i = 0u32;
    loop {
        i = i.wrapping_add(1);
        let t = f64::from(i) * 0.01;
        let s = ImuSample {
            t_s: t,
            accel_mps2: [
                read_sensor(i),
                read_sensor(i + 1),
                9.81 + read_sensor(i + 2),
            ],
            gyro_rps: (i % 2 == 0)
                .then(|| [read_sensor(i + 3), read_sensor(i + 4), read_sensor(i + 5)]),
        };
        let _ = p.push_imu(&s);
        if i % 100 == 0 {
            let _ = p.push_gps(&GpsFix {
                t_s: t,
                lat_deg: 52.0 + f64::from(read_sensor(i)),
                lon_deg: 13.0,
                speed_mps: Some(read_sensor(i + 6)),
                bearing_deg: Some(read_sensor(i + 7)),
                accuracy_m: Some(5.0),
            });
        }
        while let Some(e) = p.pop_event() {
            core::hint::black_box(e);
        }
        core::hint::black_box(p.orientation());
        if i == u32::MAX {
            p.finish();
        }
    }
}
