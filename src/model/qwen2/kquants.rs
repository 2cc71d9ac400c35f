//! Q4_K and Q6_K weights times activation rows, one (decode) or many
//! (prefill), over the file's compact blocks.
//!
//! candle's `QMatMul` repacks K-quant weights into tiles for batches of rows
//! and then keeps both copies (the tiles are a third larger than Q4_K blocks
//! and half again larger than Q6_K ones). This kernel reads the compact
//! blocks directly, so the file's blocks stay the only copy of the weights;
//! it is the activations, small and quantized afresh for every product
//! anyway, that are laid out for it.
//!
//! AVX2 without VNNI multiplies bytes with `maddubs` (pairs of u8 × i8 into
//! i16) and then needs a `madd` (pairs of i16 × scale into i32); a
//! straightforward kernel spends one of each per 32 products. Here four
//! activation rows are interleaved four values at a time, so one register
//! of weight values, shuffled, meets four rows at once, and the i16 sums of
//! four (Q4_K) or two (Q6_K) `maddubs` share one `madd`: 5 or 6 multiplies
//! per 128 products instead of 8 or 12. Integer sums are exact, so each
//! block's integer dot product is the one candle computes; only the order
//! of the float sums over blocks differs from candle's `vec_dot` (tested to
//! a tight bound).
//!
//! A single activation row (decode) has nothing to interleave; it goes
//! through a plain one-row dot product per weight row that does less per
//! block than candle's: half-precision scales converted with F16C, Q6_K's
//! −32 offset taken from the activations' block sums by one `madd` instead
//! of a `maddubs` and a subtraction per 32 values, Q4_K's scales unpacked
//! in registers. Its integer sums are also exact. Decode reads every
//! weight once per token, so it also asks for weights a few KB ahead of use
//! (see `PREFETCH_BYTES`), and products that share an input (Q, K and V;
//! gate and up) run in one pass ([`one_row_products`]).

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K, GgmlType, QK_K};
use candle_core::quantized::GgmlDType;
use candle_core::Result;

/// Activation rows interleaved in one group.
const GROUP_ROWS: usize = 4;
/// Weight rows per work unit of a one-row product.
const ROW_UNIT_COLUMNS: usize = 64;
/// Weight rows per work unit handed to a thread.
const UNIT_COLUMNS: usize = 16;
/// Bytes of interleaved activations a unit may hold, so that they stay in
/// the core's L2 cache (512 KB here, a quarter of it) while its weight
/// rows stream through.
const UNIT_ACTIVATION_BYTES: usize = 128 * 1024;

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
    fn blocks(&self) -> usize {
        match self {
            KQuantRows::Q4K(b) => b.len(),
            KQuantRows::Q6K(b) => b.len(),
        }
    }
}

/// One Q8_K block of four activation rows, interleaved.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Group {
    /// Register `4c + t` (chunk c of 32 values, step t) holds, in each
    /// 128-bit half h, rows 0–3 × the four values at 32c + 16h + 4t + i.
    qs: [[i8; 32]; 32],
    /// The activation sums the weights' offsets (Q4_K mins, Q6_K's −32)
    /// multiply, in registers laid out like the products' sums (see
    /// [`Group::new`]).
    sums: [[i16; 16]; 4],
    /// Each row's scale, twice: lane r and lane 4 + r are row r's.
    d: [f32; 8],
}

impl Group {
    const ZERO: Group = Group {
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
    fn new(rows: &[&[BlockQ8K]], b: usize, dtype: GgmlDType) -> Group {
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
mod layout {
    use super::QK_K;

    /// candle's `BlockQ4K` (repr(C), 144 bytes).
    #[repr(C)]
    pub(super) struct Q4K {
        pub d: u16,
        pub dmin: u16,
        pub scales: [u8; 12],
        pub qs: [u8; QK_K / 2],
    }
    /// candle's `BlockQ6K` (repr(C), 210 bytes).
    #[repr(C)]
    pub(super) struct Q6K {
        pub ql: [u8; QK_K / 2],
        pub qh: [u8; QK_K / 4],
        pub scales: [i8; QK_K / 16],
        pub d: u16,
    }
    /// candle's `BlockQ8K` (repr(C), 292 bytes).
    #[repr(C)]
    pub(super) struct Q8K {
        pub d: f32,
        pub qs: [i8; QK_K],
        pub bsums: [i16; QK_K / 16],
    }
    use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K};
    const _: () = assert!(std::mem::size_of::<Q4K>() == std::mem::size_of::<BlockQ4K>());
    const _: () = assert!(std::mem::size_of::<Q6K>() == std::mem::size_of::<BlockQ6K>());
    const _: () = assert!(std::mem::size_of::<Q8K>() == std::mem::size_of::<BlockQ8K>());
}

/// `dst` (m, n) = `lhs` (m, k) × `weights` (n, k)ᵀ, with m = lhs.len() / k.
/// The activations are quantized to Q8_K per row, as candle does.
pub fn matmul<W: KQuant>(
    weights: &[W],
    n: usize,
    k: usize,
    lhs: &[f32],
    dst: &mut [f32],
) -> Result<()> {
    if k == 0 || k % QK_K != 0 || weights.len() != n * k / QK_K || lhs.len() % k != 0 {
        candle_core::bail!(
            "{:?} matmul: bad shapes n={n} k={k} lhs={}",
            W::DTYPE,
            lhs.len()
        );
    }
    let m = lhs.len() / k;
    if dst.len() != m * n {
        candle_core::bail!(
            "{:?} matmul: dst holds {} values, needs {}",
            W::DTYPE,
            dst.len(),
            m * n
        );
    }
    if !super::linear::kernels_available() {
        candle_core::bail!("{:?} matmul needs AVX2, FMA and F16C", W::DTYPE);
    }
    if m == 1 {
        return one_row_products(k, lhs, &mut [(W::rows(weights), dst)]);
    }
    use rayon::prelude::*;
    let kb = k / QK_K;
    let mut lhs_q = vec![BlockQ8K::zeros(); m * kb];
    lhs.par_chunks_exact(k)
        .zip(lhs_q.par_chunks_exact_mut(kb))
        .for_each(|(row, blocks)| BlockQ8K::from_float(row, blocks));
    let mut groups = vec![Group::ZERO; m.div_ceil(GROUP_ROWS) * kb];
    groups
        .par_chunks_exact_mut(kb)
        .enumerate()
        .for_each(|(g, blocks)| {
            let rows: Vec<&[BlockQ8K]> = lhs_q
                .chunks_exact(kb)
                .skip(g * GROUP_ROWS)
                .take(GROUP_ROWS)
                .collect();
            for (b, block) in blocks.iter_mut().enumerate() {
                *block = Group::new(&rows, b, W::DTYPE);
            }
        });
    let groups: &[Group] = &groups;
    let group_bytes = kb * std::mem::size_of::<Group>();
    let unit_groups = (UNIT_ACTIVATION_BYTES / group_bytes).clamp(2, 16);
    let unit_rows = unit_groups * GROUP_ROWS;
    super::linear::for_each_unit(m, n, unit_rows, UNIT_COLUMNS, dst, |rows, columns, dst| {
        // SAFETY: AVX2/FMA/F16C checked above; shapes checked above; `rows`
        // starts at a group boundary; `dst` is this unit's rows × columns
        // and is written by this unit only.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            avx2::block(weights, groups, kb, rows, columns, dst, n)
        };
    });
    Ok(())
}

/// One activation row `lhs` (k) times each of several weights, each
/// product into its own `dst` (one value per weight row). The row is
/// quantized once and all products run in one parallel pass: decode's
/// Q, K and V (or gate and up) share an input, and each pass over rayon's
/// threads costs a wake-up that small products notice.
pub fn one_row_products(
    k: usize,
    lhs: &[f32],
    products: &mut [(KQuantRows, &mut [f32])],
) -> Result<()> {
    if k == 0 || k % QK_K != 0 || lhs.len() != k {
        candle_core::bail!(
            "one-row K-quant products: bad shapes k={k} lhs={}",
            lhs.len()
        );
    }
    let kb = k / QK_K;
    for (weights, dst) in products.iter() {
        if weights.blocks() != dst.len() * kb {
            candle_core::bail!(
                "one-row K-quant products: {} blocks for {} rows of {k}",
                weights.blocks(),
                dst.len()
            );
        }
    }
    if !super::linear::kernels_available() {
        candle_core::bail!("K-quant products need AVX2, FMA and F16C");
    }
    let mut lhs_q = vec![BlockQ8K::zeros(); kb];
    BlockQ8K::from_float(lhs, &mut lhs_q);
    // Units of ROW_UNIT_COLUMNS rows of one weight each, over all weights.
    let units: Vec<(usize, std::ops::Range<usize>)> = products
        .iter()
        .enumerate()
        .flat_map(|(p, (_, dst))| {
            (0..dst.len())
                .step_by(ROW_UNIT_COLUMNS)
                .map(move |start| (p, start..dst.len().min(start + ROW_UNIT_COLUMNS)))
        })
        .collect();
    let outputs: Vec<(KQuantRows, usize)> = products
        .iter_mut()
        .map(|(weights, dst)| (*weights, dst.as_mut_ptr() as usize))
        .collect();
    use rayon::prelude::*;
    units.into_par_iter().for_each(|(p, columns)| {
        let (weights, dst) = outputs[p];
        // SAFETY: CPU features and shapes checked above; each unit writes
        // only its own rows of its own product's `dst`.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            avx2::one_row(weights, &lhs_q, kb, columns, dst as *mut f32)
        };
    });
    Ok(())
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::super::linear::simd::{f16_to_f32, prefetch_ahead};
    use super::layout::{Q4K, Q6K, Q8K};
    use super::{Group, KQuant, KQuantRows, GROUP_ROWS, QK_K};
    use candle_core::quantized::k_quants::BlockQ8K;
    use candle_core::quantized::GgmlDType;
    use std::arch::x86_64::*;
    use std::ops::Range;

    /// Groups per tile: each shuffled weight register meets this many.
    const TILE_GROUPS: usize = 4;

    /// Byte shuffles whose number `i` repeats, in each 128-bit half, bytes
    /// `width`·i .. `width`·(i + 1) across the half.
    const fn repeat_shuffles<const N: usize>(width: usize) -> [[u8; 32]; N] {
        let mut table = [[0u8; 32]; N];
        let mut i = 0;
        while i < N {
            let mut p = 0;
            while p < 32 {
                table[i][p] = (width * i + p % width) as u8;
                p += 1;
            }
            i += 1;
        }
        table
    }

    /// Shuffle `t` repeats, in each 128-bit half, bytes 4t..4t+4 four
    /// times: a weight chunk's values lined up with a group's step t.
    const STEP_SHUFFLE: [[u8; 32]; 4] = repeat_shuffles(4);

    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn step_shuffles() -> [__m256i; 4] {
        std::array::from_fn(|t| _mm256_loadu_si256(STEP_SHUFFLE[t].as_ptr() as *const __m256i))
    }

    /// The 8 six-bit scales and the 8 mins of a Q4_K block, one byte each,
    /// as candle's `vec_dot_q4k_q8k` unpacks them: scales 0–3, 4–7, mins
    /// 0–3, 4–7, four to a word.
    #[inline]
    fn q4k_scale_words(scales: &[u8; 12]) -> [u32; 4] {
        const KMASK1: u32 = 0x3f3f3f3f;
        const KMASK2: u32 = 0x0f0f0f0f;
        const KMASK3: u32 = 0x03030303;
        let word = |i: usize| {
            u32::from_le_bytes([
                scales[4 * i],
                scales[4 * i + 1],
                scales[4 * i + 2],
                scales[4 * i + 3],
            ])
        };
        let (u0, u1, u2) = (word(0), word(1), word(2));
        [
            u0 & KMASK1,
            (u2 & KMASK2) | (((u0 >> 6) & KMASK3) << 4),
            u1 & KMASK1,
            ((u2 >> 4) & KMASK2) | (((u1 >> 6) & KMASK3) << 4),
        ]
    }

    /// The scales of a Q4_K block as bytes and its mins as i16 with mins
    /// 0–3 in the low half and 4–7 in the high half, matching
    /// [`Group::sums`].
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn q4k_scales_and_mins(scales: &[u8; 12]) -> ([u8; 8], __m256i) {
        let words = q4k_scale_words(scales);
        let mut sc = [0u8; 8];
        sc[..4].copy_from_slice(&words[0].to_le_bytes());
        sc[4..].copy_from_slice(&words[1].to_le_bytes());
        let mins = _mm256_cvtepu8_epi16(_mm_set_epi32(0, words[3] as i32, 0, words[2] as i32));
        (sc, mins)
    }

    /// Adds to `sumi[g]` one chunk's products: `w` (32 weight values of
    /// one row) with group g's registers `4c..4c+4`, `depth` `maddubs` per
    /// `madd` with `scale`.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn chunk<const G: usize, const DEPTH: usize>(
        w: __m256i,
        shuffles: &[__m256i; 4],
        scale: __m256i,
        groups: [*const Group; G],
        b: usize,
        c: usize,
        sumi: &mut [__m256i; G],
    ) {
        let wt: [__m256i; 4] = std::array::from_fn(|t| _mm256_shuffle_epi8(w, shuffles[t]));
        for g in 0..G {
            let a = (*groups[g].add(b)).qs.as_ptr().add(4 * c) as *const __m256i;
            let p = |t: usize| _mm256_maddubs_epi16(wt[t], _mm256_load_si256(a.add(t)));
            if DEPTH == 4 {
                let p16 =
                    _mm256_add_epi16(_mm256_add_epi16(p(0), p(1)), _mm256_add_epi16(p(2), p(3)));
                sumi[g] = _mm256_add_epi32(sumi[g], _mm256_madd_epi16(p16, scale));
            } else {
                let p01 = _mm256_madd_epi16(_mm256_add_epi16(p(0), p(1)), scale);
                let p23 = _mm256_madd_epi16(_mm256_add_epi16(p(2), p(3)), scale);
                sumi[g] = _mm256_add_epi32(sumi[g], _mm256_add_epi32(p01, p23));
            }
        }
    }

    /// `madd` of the weights' offsets (shuffled like the groups' sums) with
    /// each group's sums: the offsets' share, in the products' lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn offsets<const G: usize, const REGS: usize>(
        offsets: __m256i,
        shuffles: &[__m256i; 4],
        groups: [*const Group; G],
        b: usize,
    ) -> [__m256i; G] {
        let mut out = [_mm256_setzero_si256(); G];
        for j in 0..REGS {
            let o = _mm256_shuffle_epi8(offsets, shuffles[j]);
            for g in 0..G {
                let s = _mm256_load_si256((*groups[g].add(b)).sums[j].as_ptr() as *const __m256i);
                out[g] = _mm256_add_epi32(out[g], _mm256_madd_epi16(o, s));
            }
        }
        out
    }

    /// One Q4_K weight row × `G` groups: each group's eight lanes.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn q4k_tile<const G: usize>(
        w: *const Q4K,
        groups: [*const Group; G],
        kb: usize,
    ) -> [__m256; G] {
        let m4 = _mm256_set1_epi8(0xF);
        let shuffles = step_shuffles();
        let mut acc = [_mm256_setzero_ps(); G];
        for b in 0..kb {
            let x = &*w.add(b);
            let (sc, mins) = q4k_scales_and_mins(&x.scales);
            let mut sumi = [_mm256_setzero_si256(); G];
            for pair in 0..QK_K / 64 {
                let bits = _mm256_loadu_si256(x.qs.as_ptr().add(32 * pair) as *const __m256i);
                let low = _mm256_and_si256(bits, m4);
                let high = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
                for (c, w) in [(2 * pair, low), (2 * pair + 1, high)] {
                    let scale = _mm256_set1_epi16(sc[c] as i16);
                    chunk::<G, 4>(w, &shuffles, scale, groups, b, c, &mut sumi);
                }
            }
            let mins = offsets::<G, 2>(mins, &shuffles, groups, b);
            let d = _mm256_set1_ps(f16_to_f32(x.d));
            let dmin = _mm256_set1_ps(-f16_to_f32(x.dmin));
            for g in 0..G {
                let ad = _mm256_load_ps((*groups[g].add(b)).d.as_ptr());
                acc[g] = _mm256_fmadd_ps(_mm256_mul_ps(d, ad), _mm256_cvtepi32_ps(sumi[g]), acc[g]);
                acc[g] =
                    _mm256_fmadd_ps(_mm256_mul_ps(dmin, ad), _mm256_cvtepi32_ps(mins[g]), acc[g]);
            }
        }
        acc
    }

    /// The 128 six-bit values of half `half` of a Q6_K block (stored plus
    /// 32), as four registers of 32: chunks 4·half to 4·half + 3.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn q6k_values(x: &Q6K, half: usize) -> [__m256i; 4] {
        let m4 = _mm256_set1_epi8(0xF);
        let m2 = _mm256_set1_epi8(3);
        let ql1 = _mm256_loadu_si256(x.ql.as_ptr().add(64 * half) as *const __m256i);
        let ql2 = _mm256_loadu_si256(x.ql.as_ptr().add(64 * half + 32) as *const __m256i);
        let qh = _mm256_loadu_si256(x.qh.as_ptr().add(32 * half) as *const __m256i);
        let high = |bits: __m256i| _mm256_slli_epi16(_mm256_and_si256(bits, m2), 4);
        [
            _mm256_or_si256(_mm256_and_si256(ql1, m4), high(qh)),
            _mm256_or_si256(_mm256_and_si256(ql2, m4), high(_mm256_srli_epi16(qh, 2))),
            _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                high(_mm256_srli_epi16(qh, 4)),
            ),
            _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(ql2, 4), m4),
                high(_mm256_srli_epi16(qh, 6)),
            ),
        ]
    }

    /// One Q6_K weight row × `G` groups: each group's eight lanes.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn q6k_tile<const G: usize>(
        w: *const Q6K,
        groups: [*const Group; G],
        kb: usize,
    ) -> [__m256; G] {
        let shuffles = step_shuffles();
        let mut acc = [_mm256_setzero_ps(); G];
        for b in 0..kb {
            let x = &*w.add(b);
            let mut sumi = [_mm256_setzero_si256(); G];
            for half in 0..QK_K / 128 {
                for (t, w) in q6k_values(x, half).into_iter().enumerate() {
                    let c = 4 * half + t;
                    // Sixteen-value scales: chunk c's first half, then its second.
                    let scale = _mm256_set_m128i(
                        _mm_set1_epi16(x.scales[2 * c + 1] as i16),
                        _mm_set1_epi16(x.scales[2 * c] as i16),
                    );
                    chunk::<G, 2>(w, &shuffles, scale, groups, b, c, &mut sumi);
                }
            }
            // Values are stored plus 32: subtract 32 × scale × the sums.
            let scales = _mm256_cvtepi8_epi16(_mm_loadu_si128(x.scales.as_ptr() as *const __m128i));
            let offset = offsets::<G, 4>(scales, &shuffles, groups, b);
            let d = _mm256_set1_ps(f16_to_f32(x.d));
            for g in 0..G {
                let total = _mm256_sub_epi32(sumi[g], _mm256_slli_epi32(offset[g], 5));
                let ad = _mm256_load_ps((*groups[g].add(b)).d.as_ptr());
                acc[g] = _mm256_fmadd_ps(_mm256_mul_ps(d, ad), _mm256_cvtepi32_ps(total), acc[g]);
            }
        }
        acc
    }

    /// Shuffle `j` repeats bytes 2j, 2j + 1 (i16 lane j of each 128-bit
    /// half) across the half: one Q4_K scale for all 32 products of chunk
    /// j. For Q6_K, whose scales cover 16 values, the high half takes the
    /// next lane: see [`q6k_row`].
    const LANE_SHUFFLE: [[u8; 32]; 8] = repeat_shuffles(2);

    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn lane_shuffle(j: usize) -> __m256i {
        _mm256_loadu_si256(LANE_SHUFFLE[j].as_ptr() as *const __m256i)
    }

    /// Horizontal sum of eight lanes and four more.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn sum_lanes(eight: __m256, four: __m128) -> f32 {
        let s = _mm_add_ps(
            _mm256_extractf128_ps(eight, 1),
            _mm256_castps256_ps128(eight),
        );
        let s = _mm_add_ps(s, four);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
    }

    /// One Q4_K weight row `w` times one activation row `a`, `kb` blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn q4k_row(w: *const Q4K, a: *const Q8K, kb: usize) -> f32 {
        let m4 = _mm256_set1_epi8(0xF);
        let mut acc = _mm256_setzero_ps();
        let mut acc_mins = _mm_setzero_ps();
        for b in 0..kb {
            let (x, y) = (&*w.add(b), &*a.add(b));
            prefetch_ahead(w.add(b) as *const u8, 3);
            // d and dmin sit side by side at the block's start.
            let d_dmin = _mm_cvtph_ps(_mm_cvtsi32_si128((w.add(b) as *const i32).read_unaligned()));
            let d_dmin = _mm_mul_ps(d_dmin, _mm_set1_ps(y.d));
            let words = q4k_scale_words(&x.scales);
            let word_pair = |lo: u32, hi: u32| {
                _mm_cvtepu8_epi16(_mm_cvtsi64_si128(((hi as u64) << 32 | lo as u64) as i64))
            };
            let scales = _mm256_broadcastsi128_si256(word_pair(words[0], words[1]));
            let mins = word_pair(words[2], words[3]);
            // The mins multiply the sums of 32 activations: pairs of block sums.
            let bsums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let sums32 = _mm_hadd_epi16(
                _mm256_castsi256_si128(bsums),
                _mm256_extracti128_si256(bsums, 1),
            );
            let dmin = _mm_shuffle_ps(d_dmin, d_dmin, 0b0101_0101);
            let mins = _mm_cvtepi32_ps(_mm_madd_epi16(mins, sums32));
            acc_mins = _mm_fnmadd_ps(dmin, mins, acc_mins);
            let mut sumi = _mm256_setzero_si256();
            let q4 = x.qs.as_ptr() as *const __m256i;
            let q8 = y.qs.as_ptr() as *const __m256i;
            for pair in 0..QK_K / 64 {
                let bits = _mm256_loadu_si256(q4.add(pair));
                let low = _mm256_and_si256(bits, m4);
                let high = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
                for (c, w) in [(2 * pair, low), (2 * pair + 1, high)] {
                    let scale = _mm256_shuffle_epi8(scales, lane_shuffle(c));
                    let p16 = _mm256_maddubs_epi16(w, _mm256_loadu_si256(q8.add(c)));
                    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(scale, p16));
                }
            }
            acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(d_dmin), _mm256_cvtepi32_ps(sumi), acc);
        }
        sum_lanes(acc, acc_mins)
    }

    /// One Q6_K weight row `w` times one activation row `a`, `kb` blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn q6k_row(w: *const Q6K, a: *const Q8K, kb: usize) -> f32 {
        let mut acc = _mm256_setzero_ps();
        for b in 0..kb {
            let (x, y) = (&*w.add(b), &*a.add(b));
            prefetch_ahead(w.add(b) as *const u8, 4);
            let d = _mm_cvtph_ps(_mm_cvtsi32_si128(x.d as i32));
            let d = _mm256_broadcastss_ps(_mm_mul_ps(d, _mm_set1_ps(y.d)));
            let scales = _mm256_cvtepi8_epi16(_mm_loadu_si128(x.scales.as_ptr() as *const __m128i));
            // Values are stored plus 32: subtract 32 × scale × the block sums.
            let bsums = _mm256_loadu_si256(y.bsums.as_ptr() as *const __m256i);
            let offset = _mm256_slli_epi32(_mm256_madd_epi16(scales, bsums), 5);
            // Scales 0–7 and 8–15, each in both halves.
            let halves = [
                _mm256_permute4x64_epi64(scales, 0b01_00_01_00),
                _mm256_permute4x64_epi64(scales, 0b11_10_11_10),
            ];
            let mut sumi = _mm256_sub_epi32(_mm256_setzero_si256(), offset);
            let q8 = y.qs.as_ptr() as *const __m256i;
            for half in 0..QK_K / 128 {
                for (t, w) in q6k_values(x, half).into_iter().enumerate() {
                    // Chunk c's 32 values: scale 2c for the low half's 16,
                    // 2c + 1 for the high half's, the lanes of `halves[half]`
                    // at 2t and 2t + 1.
                    let c = 4 * half + t;
                    let scale = _mm256_shuffle_epi8(
                        halves[half],
                        _mm256_blend_epi32(lane_shuffle(2 * t), lane_shuffle(2 * t + 1), 0xF0),
                    );
                    let p16 = _mm256_maddubs_epi16(w, _mm256_loadu_si256(q8.add(c)));
                    sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(scale, p16));
                }
            }
            acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
        }
        sum_lanes(acc, _mm_setzero_ps())
    }

    /// Weight rows `columns` times the one activation row `lhs` into `dst`
    /// (the output row).
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) unsafe fn one_row(
        weights: KQuantRows,
        lhs: &[BlockQ8K],
        kb: usize,
        columns: Range<usize>,
        dst: *mut f32,
    ) {
        let a = lhs.as_ptr() as *const Q8K;
        for column in columns {
            *dst.add(column) = match weights {
                KQuantRows::Q4K(w) => q4k_row(w.as_ptr().add(column * kb) as *const Q4K, a, kb),
                KQuantRows::Q6K(w) => q6k_row(w.as_ptr().add(column * kb) as *const Q6K, a, kb),
            };
        }
    }

    /// Rows `rows` × columns `columns` of the product into `dst` (the whole
    /// output, `n` values per row). `rows` starts at a group boundary.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(super) unsafe fn block<W: KQuant>(
        weights: &[W],
        groups: &[Group],
        kb: usize,
        rows: Range<usize>,
        columns: Range<usize>,
        dst: *mut f32,
        n: usize,
    ) {
        let first_group = rows.start / GROUP_ROWS;
        let end_group = rows.end.div_ceil(GROUP_ROWS);
        for column in columns {
            let w = weights.as_ptr().add(column * kb);
            let mut g = first_group;
            while g < end_group {
                let count = (end_group - g).min(TILE_GROUPS);
                let at = |i: usize| groups.as_ptr().add((g + i) * kb);
                macro_rules! tile {
                    ($n:literal) => {{
                        let ptrs: [*const Group; $n] = std::array::from_fn(|i| at(i));
                        let lanes = match W::DTYPE {
                            GgmlDType::Q4K => q4k_tile::<$n>(w as *const Q4K, ptrs, kb),
                            _ => q6k_tile::<$n>(w as *const Q6K, ptrs, kb),
                        };
                        for (i, lanes) in lanes.iter().enumerate() {
                            let sums = _mm_add_ps(
                                _mm256_castps256_ps128(*lanes),
                                _mm256_extractf128_ps(*lanes, 1),
                            );
                            let mut values = [0f32; 4];
                            _mm_storeu_ps(values.as_mut_ptr(), sums);
                            let row0 = (g + i) * GROUP_ROWS;
                            for (r, v) in values.iter().enumerate() {
                                if row0 + r < rows.end {
                                    *dst.add((row0 + r) * n + column) = *v;
                                }
                            }
                        }
                    }};
                }
                match count {
                    1 => tile!(1),
                    2 => tile!(2),
                    3 => tile!(3),
                    _ => tile!(4),
                }
                g += count;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

    use super::super::linear::test_values as values;

    /// candle's one-row dot products of the same blocks, row by row.
    fn vec_dot_reference<W: KQuant>(blocks: &[W], n: usize, k: usize, x: &[f32]) -> Vec<f32> {
        let kb = k / QK_K;
        let mut expected = Vec::new();
        for row in x.chunks_exact(k) {
            let mut xq = vec![BlockQ8K::zeros(); kb];
            BlockQ8K::from_float(row, &mut xq);
            for c in 0..n {
                expected.push(W::vec_dot(k, &blocks[c * kb..(c + 1) * kb], &xq));
            }
        }
        expected
    }

    /// The kernel against candle's one-row dot product. Each block's
    /// integer sum is the same; only the float sums over blocks run in
    /// another order, so values agree to a few units in the last place of
    /// the largest partial sum, while a wrong lane, row or offset moves them
    /// by whole units.
    fn matches_vec_dot<W: KQuant>(
        dtype: GgmlDType,
        weights: &[f32],
        x: &[f32],
        n: usize,
        k: usize,
    ) {
        let w = Tensor::from_vec(weights.to_vec(), (n, k), &Device::Cpu).unwrap();
        let q = QTensor::quantize(&w, dtype).unwrap();
        let data = q.data().unwrap();
        let blocks = super::super::linear::as_blocks::<W>(&data, n * k).unwrap();
        let expected = vec_dot_reference(blocks, n, k, x);
        let mut got = vec![0f32; expected.len()];
        matmul(blocks, n, k, x, &mut got).unwrap();
        let scale = expected.iter().fold(1f32, |a, v| a.max(v.abs()));
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert!(
                (g - e).abs() <= 1e-5 * scale,
                "{dtype:?} n={n} k={k} value {i}: {g} vs {e}"
            );
        }
    }

    fn matches_vec_dot_on_shapes<W: KQuant>(dtype: GgmlDType) {
        // Rows that fill groups and tiles, and ones that leave them partial;
        // one row (decode) with several work units.
        for (m, n, k) in [
            (1, 3, 256),
            (1, 150, 1536),
            (1, 9, 2816),
            (5, 17, 512),
            (70, 33, 256),
            (9, 40, 1536),
            (13, 8, 2816),
        ] {
            matches_vec_dot::<W>(dtype, &values(n * k, 7), &values(m * k, 11), n, k);
        }
    }

    #[test]
    fn q4k_matches_candle_vec_dot() {
        if super::super::linear::kernels_available() {
            matches_vec_dot_on_shapes::<BlockQ4K>(GgmlDType::Q4K);
        }
    }

    #[test]
    fn q6k_matches_candle_vec_dot() {
        if super::super::linear::kernels_available() {
            matches_vec_dot_on_shapes::<BlockQ6K>(GgmlDType::Q6K);
        }
    }

    /// The largest products the 16-bit sums meet: weights that quantize to
    /// their top value (15 for Q4_K, 63 for Q6_K) in all but the first place
    /// of each sub-block, against activations of −128 in every place.
    #[test]
    fn extreme_values_do_not_overflow_the_sums() {
        if !super::super::linear::kernels_available() {
            return;
        }
        for m in [1, 6] {
            extreme_values(m);
        }
    }

    fn extreme_values(m: usize) {
        let (n, k) = (4, 512);
        let x = vec![-1.0f32; m * k];
        // Q4_K: the sub-block's minimum first, every other value at the top.
        let q4k: Vec<f32> = (0..n * k)
            .map(|i| if i % 32 == 0 { -1.0 } else { 0.99 })
            .collect();
        matches_vec_dot::<BlockQ4K>(GgmlDType::Q4K, &q4k, &x, n, k);
        // Q6_K: the largest magnitude (quantized to −32) first, the rest of
        // the other sign quantize to +31.
        let q6k: Vec<f32> = (0..n * k)
            .map(|i| if i % 16 == 0 { 1.0 } else { -0.99 })
            .collect();
        matches_vec_dot::<BlockQ6K>(GgmlDType::Q6K, &q6k, &x, n, k);
    }

    #[test]
    fn rejects_mismatched_shapes() {
        let q = QTensor::quantize(
            &Tensor::zeros((4, 256), candle_core::DType::F32, &Device::Cpu).unwrap(),
            GgmlDType::Q4K,
        )
        .unwrap();
        let data = q.data().unwrap();
        let blocks = super::super::linear::as_blocks::<BlockQ4K>(&data, 4 * 256).unwrap();
        let mut dst = vec![0f32; 4];
        assert!(matmul(blocks, 4, 256, &[0.0; 257], &mut dst).is_err());
        assert!(matmul(blocks, 4, 256, &[0.0; 512], &mut dst).is_err());
        // One row: the output must have one value per weight row.
        let mut short = vec![0f32; 3];
        let mut rows = [(KQuantRows::Q4K(blocks), short.as_mut_slice())];
        assert!(one_row_products(256, &[0.0; 256], &mut rows).is_err());
        let mut rows = [(KQuantRows::Q4K(blocks), dst.as_mut_slice())];
        assert!(one_row_products(256, &[0.0; 255], &mut rows).is_err());
        assert!(one_row_products(256, &[0.0; 256], &mut rows).is_ok());
    }
}
