//! What the drivers and every instruction set's file share: the block
//! layouts the kernels read, the interleaved activation groups, and the
//! sizes both sides must agree on. A leaf: it imports no other kernel file.

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K, GgmlType, QK_K};
use candle_core::quantized::GgmlDType;

/// Activation rows interleaved in one group.
pub(crate) const GROUP_ROWS: usize = 4;
/// A K-quant block type this kernel multiplies.
pub trait KQuant: GgmlType<VecDotType = BlockQ8K> + Sync {
    fn rows(blocks: &[Self]) -> KQuantRows<'_>;
}
impl KQuant for BlockQ4K {
    fn rows(blocks: &[Self]) -> KQuantRows<'_> {
        KQuantRows::Q4K(blocks)
    }
}
impl KQuant for BlockQ6K {
    fn rows(blocks: &[Self]) -> KQuantRows<'_> {
        KQuantRows::Q6K(blocks)
    }
}

/// The blocks of a K-quant weight, whichever type: the weights of a
/// [`one_row_products`] call may differ in type.
#[derive(Clone, Copy)]
pub enum KQuantRows<'a> {
    Q4K(&'a [BlockQ4K]),
    Q6K(&'a [BlockQ6K]),
}

impl KQuantRows<'_> {
    pub(crate) fn blocks(&self) -> usize {
        match self {
            KQuantRows::Q4K(b) => b.len(),
            KQuantRows::Q6K(b) => b.len(),
        }
    }
}

/// One Q8_K block of four activation rows, interleaved.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
pub(crate) struct Group {
    /// Register `4c + t` (chunk c of 32 values, step t) holds, in each
    /// 128-bit half h, rows 0–3 × the four values at 32c + 16h + 4t + i.
    pub(crate) qs: [[i8; 32]; 32],
    /// The activation sums the weights' offsets (Q4_K mins, Q6_K's −32)
    /// multiply, in registers laid out like the products' sums (see
    /// [`Group::new`]).
    pub(crate) sums: [[i16; 16]; 4],
    /// Each row's scale, twice: lane r and lane 4 + r are row r's.
    pub(crate) d: [f32; 8],
}

impl Group {
    pub(crate) const ZERO: Group = Group {
        qs: [[0; 32]; 32],
        sums: [[0; 16]; 4],
        d: [0.0; 8],
    };

    /// Interleaves block `b` of up to four rows' Q8_K blocks. `sums`
    /// register j holds, at i16 lane 2(r + 4h) + e, row r's sum number
    /// 2j + e + (S/2)·h, where the S sums are the 16 sixteen-value sums for
    /// Q6_K and the 8 thirty-two-value sums for Q4_K: one `madd` with the
    /// weights' offsets shuffled the same way gives each row's share in the
    /// lanes where its products are.
    pub(crate) fn new(rows: &[&[BlockQ8K]], b: usize, dtype: GgmlDType) -> Group {
        let mut group = Group::ZERO;
        for (r, row) in rows.iter().enumerate() {
            // SAFETY: `Q8K` has `BlockQ8K`'s layout (asserted below).
            let block = unsafe { &*(&row[b] as *const BlockQ8K as *const layout::Q8K) };
            group.d[r] = block.d;
            group.d[r + 4] = block.d;
            for c in 0..QK_K / 32 {
                for t in 0..4 {
                    for h in 0..2 {
                        for i in 0..4 {
                            group.qs[4 * c + t][16 * h + 4 * r + i] =
                                block.qs[32 * c + 16 * h + 4 * t + i];
                        }
                    }
                }
            }
            let pair_sums: [i16; 8] =
                std::array::from_fn(|s| block.bsums[2 * s].wrapping_add(block.bsums[2 * s + 1]));
            let sums: &[i16] = match dtype {
                GgmlDType::Q4K => &pair_sums,
                _ => &block.bsums,
            };
            let half = sums.len() / 2;
            for j in 0..half / 2 {
                for h in 0..2 {
                    for e in 0..2 {
                        group.sums[j][2 * (r + 4 * h) + e] = sums[2 * j + e + half * h];
                    }
                }
            }
        }
        group
    }
}

/// Plain layouts of candle's blocks, whose fields are private to candle.
pub(crate) mod layout {
    use super::QK_K;

    /// candle's `BlockQ4K` (repr(C), 144 bytes).
    #[repr(C)]
    pub(crate) struct Q4K {
        pub d: u16,
        pub dmin: u16,
        pub scales: [u8; 12],
        pub qs: [u8; QK_K / 2],
    }
    /// candle's `BlockQ6K` (repr(C), 210 bytes).
    #[repr(C)]
    pub(crate) struct Q6K {
        pub ql: [u8; QK_K / 2],
        pub qh: [u8; QK_K / 4],
        pub scales: [i8; QK_K / 16],
        pub d: u16,
    }
    /// candle's `BlockQ8K` (repr(C), 292 bytes).
    #[repr(C)]
    pub(crate) struct Q8K {
        pub d: f32,
        pub qs: [i8; QK_K],
        pub bsums: [i16; QK_K / 16],
    }
    use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K};
    const _: () = assert!(std::mem::size_of::<Q4K>() == std::mem::size_of::<BlockQ4K>());
    const _: () = assert!(std::mem::size_of::<Q6K>() == std::mem::size_of::<BlockQ6K>());
    const _: () = assert!(std::mem::size_of::<Q8K>() == std::mem::size_of::<BlockQ8K>());
}

/// Keys whose values are summed together: their rows of V (128 floats
/// each) stay in the core's cache while every 8 dimensions are summed.
pub(crate) const VALUE_BLOCK: usize = 256;

/// Query heads per KV head this kernel takes (Qwen2 models have 2 to 7).
pub const MAX_GROUP: usize = 8;
