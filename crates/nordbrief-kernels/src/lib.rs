//! Quantized matrix and attention kernels for nordbrief's CPU inference.
//!
//! One interface for the model code: [`kquants`] (Q4_K and Q6_K weights),
//! [`q8_0`] (Q8_0 weights) and [`attention`] (decode attention over the KV
//! cache). Each instruction set has its own file (`avx2.rs` today); which one
//! runs is chosen once, at start-up, from what the CPU reports ([`isa`]).
//! Where none of them runs, [`available`] is false and the caller uses
//! candle's own kernels, the portable path.
//!
//! The kernels read candle's block layouts (`candle_core::quantized::k_quants`)
//! and nothing else of nordbrief.

pub mod attention;
mod blocks;
pub mod kquants;
pub mod q8_0;

#[cfg(target_arch = "x86_64")]
mod avx2;

use candle_core::quantized::k_quants::GgmlType;
use candle_core::Result;
use std::sync::OnceLock;

/// The instruction sets the kernels are written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// AVX2 with FMA and F16C, as every x86-64 CPU since 2013 has.
    Avx2,
    /// None of nordbrief's kernels: candle's own portable code runs.
    Portable,
}

impl Isa {
    /// The name `nordbrief bench` prints and `NORDBRIEF_KERNELS` takes.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }

    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c")
        {
            return Isa::Avx2;
        }
        Isa::Portable
    }
}

/// The environment variable that forces a lower path than the CPU allows
/// (`portable`), so every path can be tested on one machine.
pub const FORCE_ENV: &str = "NORDBRIEF_KERNELS";

/// The kernels this process runs: the best the CPU has, or a lower one that
/// [`FORCE_ENV`] names. Decided on first use and fixed for the process.
pub fn isa() -> Isa {
    static CHOSEN: OnceLock<Isa> = OnceLock::new();
    *CHOSEN.get_or_init(|| {
        let best = Isa::detect();
        match std::env::var(FORCE_ENV).ok().as_deref() {
            Some("portable") => Isa::Portable,
            _ => best,
        }
    })
}

/// Whether nordbrief's kernels run here; without them candle's own run.
pub fn available() -> bool {
    isa() != Isa::Portable
}
/// The weight's bytes as its blocks, checked against the element count.
pub fn as_blocks<T: GgmlType>(data: &[u8], elements: usize) -> Result<&[T]> {
    let count = elements / T::BLCK_SIZE;
    if data.len() != count * std::mem::size_of::<T>()
        || (data.as_ptr() as usize) % std::mem::align_of::<T>() != 0
    {
        candle_core::bail!(
            "quantized weight of {} bytes does not hold {count} {:?} blocks",
            data.len(),
            T::DTYPE
        );
    }
    // SAFETY: length and alignment are checked above; the blocks are plain
    // old data that candle itself reinterprets the same way.
    Ok(unsafe { std::slice::from_raw_parts(data.as_ptr() as *const T, count) })
}

/// Deterministic values in [-1, 1], for tests of the kernels and of the
/// layers that call them.
#[doc(hidden)]
pub fn test_values(count: usize, seed: u32) -> Vec<f32> {
    (0..count as u32)
        .map(|i| ((i.wrapping_mul(2654435761) ^ seed) % 2001) as f32 / 1000.0 - 1.0)
        .collect()
}

/// Runs `unit(rows, columns, dst)` over an (m × n) product in units of at
/// most `unit_rows` × `unit_columns`, spread over rayon's threads rather
/// than candle's barrier pool: on a busy machine the pool's caller spins
/// while a descheduled worker holds its share, which measured ten times
/// slower decode with two threads than with one, whereas rayon's waiting
/// thread sleeps and the caller takes over shares not yet started. `dst`
/// is the whole output's first value; each unit writes only its own rows ×
/// columns. The row units of one column unit are adjacent, so a thread
/// reads those weight rows from memory once and the activations, which are
/// smaller, from cache.
pub(crate) fn for_each_unit(
    m: usize,
    n: usize,
    unit_rows: usize,
    unit_columns: usize,
    dst: &mut [f32],
    unit: impl Fn(std::ops::Range<usize>, std::ops::Range<usize>, *mut f32) + Sync,
) {
    use rayon::prelude::*;
    assert_eq!(dst.len(), m * n, "output of {m} × {n}");
    let row_units = m.div_ceil(unit_rows);
    let column_units = n.div_ceil(unit_columns);
    let dst_ptr = dst.as_mut_ptr() as usize;
    (0..row_units * column_units)
        .into_par_iter()
        .for_each(|index| {
            let (column_unit, row_unit) = (index / row_units, index % row_units);
            let rows = row_unit * unit_rows..m.min((row_unit + 1) * unit_rows);
            let columns = column_unit * unit_columns..n.min((column_unit + 1) * unit_columns);
            unit(rows, columns, dst_ptr as *mut f32);
        });
}
