//! The AVX2 (with FMA and F16C) kernels: every function here needs those
//! features, which the caller checked through [`crate::isa`].

/// Helpers the AVX2 kernels share.
pub(crate) mod simd {
    use std::arch::x86_64::*;

    /// An IEEE half-precision value as f32 (exact).
    #[inline]
    #[target_feature(enable = "f16c")]
    pub(crate) unsafe fn f16_to_f32(h: u16) -> f32 {
        _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h as i32)))
    }

    /// How far ahead of the weights in hand a one-row product asks for
    /// more: decode reads every weight once, and the hardware prefetcher
    /// alone left K-quant decode at ~70% of the memory bandwidth here;
    /// asking 4–8 KB ahead brought it to ~90% (1–2 KB were slower). Q8_0
    /// decode, with shorter rows read four at a time, gained more at 8 KB.
    pub(crate) const PREFETCH_BYTES: usize = 8192;

    /// Asks for `lines` cache lines from `PREFETCH_BYTES` past `at`. A
    /// prefetch never faults, so it may point past the weights' end.
    #[inline(always)]
    pub(crate) fn prefetch_ahead(at: *const u8, lines: usize) {
        let ahead = at.wrapping_add(PREFETCH_BYTES) as *const i8;
        for line in 0..lines {
            // SAFETY: prefetching is a hint that reads nothing and cannot fault.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(64 * line)) };
        }
    }

    /// Horizontal sum in the order candle's `hsum_float_8` uses, so
    /// results match its dot product bit for bit.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn hsum(x: __m256) -> f32 {
        let res = _mm256_extractf128_ps(x, 1);
        let res = _mm_add_ps(res, _mm256_castps256_ps128(x));
        let res = _mm_add_ps(res, _mm_movehl_ps(res, res));
        let res = _mm_add_ss(res, _mm_movehdup_ps(res));
        _mm_cvtss_f32(res)
    }
}

/// Q4_K and Q6_K tiles (prefill) and one-row products (decode); see [`crate::kquants`].
pub(crate) mod kquants {
    use super::simd::{f16_to_f32, prefetch_ahead};
    use crate::blocks::layout::{Q4K, Q6K, Q8K};
    use crate::blocks::{Group, KQuant, KQuantRows, GROUP_ROWS};
    use candle_core::quantized::k_quants::BlockQ8K;
    use candle_core::quantized::k_quants::QK_K;
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
    pub(crate) unsafe fn one_row(
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
    pub(crate) unsafe fn block<W: KQuant>(
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

/// Q8_0 tiles; see [`crate::q8_0`].
pub(crate) mod q8_0 {
    use super::simd::{f16_to_f32, hsum, prefetch_ahead};
    use candle_core::quantized::k_quants::BlockQ8_0;
    use std::arch::x86_64::*;
    use std::ops::Range;

    /// Same memory layout as candle's `BlockQ8_0` (repr(C), 34 bytes),
    /// whose fields are private to candle.
    #[repr(C)]
    struct Block {
        d: u16,
        qs: [i8; 32],
    }
    const _: () = assert!(std::mem::size_of::<Block>() == std::mem::size_of::<BlockQ8_0>());

    /// `RM` activation rows × `RN` weight rows, accumulators in registers.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn tile<const RM: usize, const RN: usize>(
        w: *const Block,
        a: *const Block,
        kb: usize,
        dst: *mut f32,
        dst_stride: usize,
    ) {
        let ones = _mm256_set1_epi16(1);
        let mut acc = [[_mm256_setzero_ps(); RN]; RM];
        for b in 0..kb {
            let mut wq = [_mm256_setzero_si256(); RN];
            let mut wd = [0f32; RN];
            for j in 0..RN {
                if RM == 1 && b % 2 == 0 {
                    // One row (decode) streams the weights: see
                    // `PREFETCH_BYTES`. Two blocks are 68 bytes.
                    prefetch_ahead(w.add(j * kb + b) as *const u8, 2);
                }
                let block = &*w.add(j * kb + b);
                wq[j] = _mm256_loadu_si256(block.qs.as_ptr() as *const __m256i);
                wd[j] = f16_to_f32(block.d);
            }
            // Four rows' scales converted at once and multiplied by
            // each weight row's scale in one vector product (the
            // products are the same f32 values as one at a time).
            let mut scales = [[0f32; 4]; RN];
            if RM == 4 {
                let ds = [0, 1, 2, 3].map(|i| (*a.add(i * kb + b)).d as u64);
                let packed = ds[0] | ds[1] << 16 | ds[2] << 32 | ds[3] << 48;
                let da = _mm_cvtph_ps(_mm_set_epi64x(0, packed as i64));
                for j in 0..RN {
                    _mm_storeu_ps(scales[j].as_mut_ptr(), _mm_mul_ps(da, _mm_set1_ps(wd[j])));
                }
            }
            for (i, acc_row) in acc.iter_mut().enumerate() {
                let block = &*a.add(i * kb + b);
                let aq = _mm256_loadu_si256(block.qs.as_ptr() as *const __m256i);
                let ad = if RM == 4 { 0.0 } else { f16_to_f32(block.d) };
                for j in 0..RN {
                    // |w| · sign(a, w): maddubs needs one unsigned operand.
                    let abs_w = _mm256_sign_epi8(wq[j], wq[j]);
                    let signed_a = _mm256_sign_epi8(aq, wq[j]);
                    let pairs = _mm256_maddubs_epi16(abs_w, signed_a);
                    let sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(ones, pairs));
                    let scale = if RM == 4 { scales[j][i] } else { wd[j] * ad };
                    acc_row[j] = _mm256_fmadd_ps(_mm256_set1_ps(scale), sums, acc_row[j]);
                }
            }
        }
        for (i, acc_row) in acc.iter().enumerate() {
            for (j, &value) in acc_row.iter().enumerate() {
                *dst.add(i * dst_stride + j) = hsum(value);
            }
        }
    }

    /// dst[rows × columns] of the product, in tiles.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn block(
        weights: &[BlockQ8_0],
        lhs: &[BlockQ8_0],
        kb: usize,
        rows: Range<usize>,
        columns: Range<usize>,
        dst: *mut f32,
        n: usize,
    ) {
        let w = weights.as_ptr() as *const Block;
        let a = lhs.as_ptr() as *const Block;
        // One activation row (decode) is bound by reading weights: more
        // weight rows per tile; many rows reuse each weight block more.
        let (rm_max, rn_max) = if rows.len() == 1 { (1, 4) } else { (4, 2) };
        let mut j = columns.start;
        while j < columns.end {
            let rn = rn_max.min(columns.end - j);
            let mut i = rows.start;
            while i < rows.end {
                let rm = rm_max.min(rows.end - i);
                let (wp, ap, dp) = (w.add(j * kb), a.add(i * kb), dst.add(i * n + j));
                match (rm, rn) {
                    (4, 2) => tile::<4, 2>(wp, ap, kb, dp, n),
                    (3, 2) => tile::<3, 2>(wp, ap, kb, dp, n),
                    (2, 2) => tile::<2, 2>(wp, ap, kb, dp, n),
                    (1, 2) => tile::<1, 2>(wp, ap, kb, dp, n),
                    (4, 1) => tile::<4, 1>(wp, ap, kb, dp, n),
                    (3, 1) => tile::<3, 1>(wp, ap, kb, dp, n),
                    (2, 1) => tile::<2, 1>(wp, ap, kb, dp, n),
                    (1, 4) => tile::<1, 4>(wp, ap, kb, dp, n),
                    (1, 3) => tile::<1, 3>(wp, ap, kb, dp, n),
                    _ => tile::<1, 1>(wp, ap, kb, dp, n),
                }
                i += rm;
            }
            j += rn;
        }
    }
}

/// Decode attention of one KV head; see [`crate::attention`].
pub(crate) mod attention {
    use super::simd::hsum;
    use crate::blocks::{MAX_GROUP, VALUE_BLOCK};
    use std::arch::x86_64::*;

    /// One KV head: `group` query rows in `q`, `k` and `v` of `keys` rows.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub(crate) unsafe fn head(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        head_dim: usize,
        group: usize,
        out: &mut [f32],
    ) {
        match group {
            1 => head_of::<1>(q, k, v, head_dim, out),
            2 => head_of::<2>(q, k, v, head_dim, out),
            3 => head_of::<3>(q, k, v, head_dim, out),
            4 => head_of::<4>(q, k, v, head_dim, out),
            5 => head_of::<5>(q, k, v, head_dim, out),
            6 => head_of::<6>(q, k, v, head_dim, out),
            7 => head_of::<7>(q, k, v, head_dim, out),
            _ => head_of::<MAX_GROUP>(q, k, v, head_dim, out),
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn head_of<const G: usize>(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        head_dim: usize,
        out: &mut [f32],
    ) {
        let keys = k.len() / head_dim;
        let (q, k, v) = (q.as_ptr(), k.as_ptr(), v.as_ptr());
        // Scores, one row of `keys` per query row: each key row is read
        // once for all G queries.
        let mut scores = vec![0f32; G * keys];
        for j in 0..keys {
            let mut acc = [_mm256_setzero_ps(); G];
            for c in (0..head_dim).step_by(8) {
                let key = _mm256_loadu_ps(k.add(j * head_dim + c));
                for (r, acc) in acc.iter_mut().enumerate() {
                    *acc = _mm256_fmadd_ps(_mm256_loadu_ps(q.add(r * head_dim + c)), key, *acc);
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                scores[r * keys + j] = hsum(*acc);
            }
        }
        // Softmax; the division by the sum waits until the values are summed.
        let mut inverse_sums = [0f32; G];
        for (r, row) in scores.chunks_exact_mut(keys).enumerate() {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
            let mut sum = 0f32;
            for s in row.iter_mut() {
                *s = (*s - max).exp();
                sum += *s;
            }
            inverse_sums[r] = 1.0 / sum;
        }
        // Σ p·V, in blocks of keys so that the block's V rows stay cached
        // while each group of 8 dimensions is summed for all G rows.
        let out_ptr = out.as_mut_ptr();
        for start in (0..keys).step_by(VALUE_BLOCK) {
            let end = keys.min(start + VALUE_BLOCK);
            for c in (0..head_dim).step_by(8) {
                let mut acc: [__m256; G] =
                    std::array::from_fn(|r| _mm256_loadu_ps(out_ptr.add(r * head_dim + c)));
                for j in start..end {
                    let value = _mm256_loadu_ps(v.add(j * head_dim + c));
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let p = _mm256_set1_ps(*scores.get_unchecked(r * keys + j));
                        *acc = _mm256_fmadd_ps(p, value, *acc);
                    }
                }
                for (r, acc) in acc.iter().enumerate() {
                    _mm256_storeu_ps(out_ptr.add(r * head_dim + c), *acc);
                }
            }
        }
        for (r, row) in out.chunks_exact_mut(head_dim).take(G).enumerate() {
            for x in row {
                *x *= inverse_sums[r];
            }
        }
    }
}
