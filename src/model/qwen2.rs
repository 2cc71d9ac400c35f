//! Qwen2 forward pass over quantized GGUF weights.
//!
//! Adapted from candle-transformers' `quantized_qwen2`, owned here because the
//! pipeline needs things the stock model lacks: a KV cache that can be cut
//! back to a shared prompt prefix (so chunks of one document reuse the
//! system prompt's cache), and a known place to optimise attention later.

use candle_core::quantized::{gguf_file, QMatMul};
use candle_core::{DType, Device, IndexOp, Module, Result, Tensor};
use candle_nn::Embedding;
use candle_transformers::quantized_nn::RmsNorm;
use candle_transformers::utils::repeat_kv;

struct Mlp {
    gate: QMatMul,
    down: QMatMul,
    up: QMatMul,
}

impl Mlp {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let gate = candle_nn::ops::silu(&self.gate.forward(xs)?)?;
        self.down.forward(&(gate * self.up.forward(xs)?)?)
    }
}

struct Layer {
    wq: QMatMul,
    wk: QMatMul,
    wv: QMatMul,
    bq: Tensor,
    bk: Tensor,
    bv: Tensor,
    wo: QMatMul,
    attention_norm: RmsNorm,
    mlp: Mlp,
    ffn_norm: RmsNorm,
    /// Keys and values of every position seen so far, (1, n_kv_head, len, head_dim).
    kv_cache: Option<(Tensor, Tensor)>,
}

/// Shape facts read from the GGUF metadata.
#[derive(Debug, Clone)]
pub struct Qwen2Config {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub embedding_length: usize,
    pub block_count: usize,
    pub context_length: usize,
    pub rms_norm_eps: f64,
    pub rope_freq_base: f32,
}

impl Qwen2Config {
    pub fn from_gguf(ct: &gguf_file::Content) -> Result<Self> {
        let get = |key: &str| -> Result<&gguf_file::Value> {
            ct.metadata
                .get(key)
                .ok_or_else(|| candle_core::Error::Msg(format!("GGUF metadata lacks `{key}`")))
        };
        let n_head = get("qwen2.attention.head_count")?.to_u32()? as usize;
        let embedding_length = get("qwen2.embedding_length")?.to_u32()? as usize;
        Ok(Self {
            n_head,
            n_kv_head: get("qwen2.attention.head_count_kv")?.to_u32()? as usize,
            head_dim: embedding_length / n_head,
            embedding_length,
            block_count: get("qwen2.block_count")?.to_u32()? as usize,
            context_length: get("qwen2.context_length")?.to_u32()? as usize,
            rms_norm_eps: get("qwen2.attention.layer_norm_rms_epsilon")?.to_f32()? as f64,
            rope_freq_base: get("qwen2.rope.freq_base")
                .and_then(|v| v.to_f32())
                .unwrap_or(10_000.0),
        })
    }
}

pub struct Qwen2 {
    config: Qwen2Config,
    embeddings: Embedding,
    layers: Vec<Layer>,
    norm: RmsNorm,
    output: QMatMul,
    cos: Tensor,
    sin: Tensor,
    /// Number of positions held in every layer's KV cache.
    cached_len: usize,
}

impl Qwen2 {
    pub fn from_gguf<R: std::io::Seek + std::io::Read>(
        ct: &gguf_file::Content,
        reader: &mut R,
        device: &Device,
    ) -> Result<Self> {
        let config = Qwen2Config::from_gguf(ct)?;
        let mut tensor = |name: &str| ct.tensor(reader, name, device);

        let token_embd = tensor("token_embd.weight")?;
        let embeddings = Embedding::new(token_embd.dequantize(device)?, config.embedding_length);
        let norm = RmsNorm::from_qtensor(tensor("output_norm.weight")?, config.rms_norm_eps)?;
        // Small Qwen2 models tie the output projection to the embeddings.
        let output = match tensor("output.weight") {
            Ok(w) => QMatMul::from_qtensor(w)?,
            Err(_) => QMatMul::from_qtensor(token_embd)?,
        };

        let mut layers = Vec::with_capacity(config.block_count);
        for i in 0..config.block_count {
            let mut t = |suffix: &str| tensor(&format!("blk.{i}.{suffix}"));
            let layer = Layer {
                wq: QMatMul::from_qtensor(t("attn_q.weight")?)?,
                wk: QMatMul::from_qtensor(t("attn_k.weight")?)?,
                wv: QMatMul::from_qtensor(t("attn_v.weight")?)?,
                bq: t("attn_q.bias")?.dequantize(device)?,
                bk: t("attn_k.bias")?.dequantize(device)?,
                bv: t("attn_v.bias")?.dequantize(device)?,
                wo: QMatMul::from_qtensor(t("attn_output.weight")?)?,
                attention_norm: RmsNorm::from_qtensor(t("attn_norm.weight")?, config.rms_norm_eps)?,
                mlp: Mlp {
                    gate: QMatMul::from_qtensor(t("ffn_gate.weight")?)?,
                    down: QMatMul::from_qtensor(t("ffn_down.weight")?)?,
                    up: QMatMul::from_qtensor(t("ffn_up.weight")?)?,
                },
                ffn_norm: RmsNorm::from_qtensor(t("ffn_norm.weight")?, config.rms_norm_eps)?,
                kv_cache: None,
            };
            layers.push(layer);
        }
        let (cos, sin) = rope_tables(&config, device)?;
        Ok(Self {
            config,
            embeddings,
            layers,
            norm,
            output,
            cos,
            sin,
            cached_len: 0,
        })
    }

    pub fn config(&self) -> &Qwen2Config {
        &self.config
    }

    /// Positions currently held in the KV cache.
    pub fn cached_len(&self) -> usize {
        self.cached_len
    }

    /// Cut the KV cache back to its first `len` positions, keeping a shared
    /// prompt prefix so that only the rest of a new prompt is read.
    pub fn truncate_cache(&mut self, len: usize) -> Result<()> {
        if len >= self.cached_len {
            return Ok(());
        }
        for layer in &mut self.layers {
            layer.kv_cache = match (&layer.kv_cache, len) {
                (_, 0) | (None, _) => None,
                (Some((k, v)), len) => Some((
                    k.narrow(2, 0, len)?.contiguous()?,
                    v.narrow(2, 0, len)?.contiguous()?,
                )),
            };
        }
        self.cached_len = len;
        Ok(())
    }

    /// Read `tokens` at the positions following the cache and return the
    /// logits of the last one, shape (vocab,).
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Tensor> {
        let device = self.cos.device().clone();
        let seq_len = tokens.len();
        let index_pos = self.cached_len;
        if index_pos + seq_len > self.config.context_length {
            candle_core::bail!(
                "prompt of {} tokens exceeds the model's context of {}",
                index_pos + seq_len,
                self.config.context_length
            );
        }
        let input = Tensor::new(tokens, &device)?.unsqueeze(0)?;
        let mask = if seq_len == 1 {
            None
        } else {
            Some(candle_transformers::utils::build_causal_mask(seq_len, index_pos, &device)?)
        };
        let cos = self.cos.narrow(0, index_pos, seq_len)?;
        let sin = self.sin.narrow(0, index_pos, seq_len)?;

        let mut hidden = self.embeddings.forward(&input)?;
        for layer in &mut self.layers {
            let residual = &hidden;
            let x = layer.attention_norm.forward(&hidden)?;
            let attn = layer.attention(&self.config, &x, mask.as_ref(), &cos, &sin)?;
            let x = (attn + residual)?;
            let residual = &x;
            let y = layer.mlp.forward(&layer.ffn_norm.forward(&x)?)?;
            hidden = (y + residual)?;
        }
        self.cached_len += seq_len;
        let last = self.norm.forward(&hidden)?.i((.., seq_len - 1, ..))?;
        self.output.forward(&last)?.squeeze(0)?.to_dtype(DType::F32)
    }
}

impl Layer {
    fn attention(
        &mut self,
        config: &Qwen2Config,
        x: &Tensor,
        mask: Option<&Tensor>,
        cos: &Tensor,
        sin: &Tensor,
    ) -> Result<Tensor> {
        let (b, seq_len, n_embd) = x.dims3()?;
        let project = |w: &QMatMul, bias: &Tensor, heads: usize| -> Result<Tensor> {
            w.forward(x)?
                .broadcast_add(bias)?
                .reshape((b, seq_len, heads, config.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = project(&self.wq, &self.bq, config.n_head)?;
        let k = project(&self.wk, &self.bk, config.n_kv_head)?;
        let v = project(&self.wv, &self.bv, config.n_kv_head)?;
        let q = candle_nn::rotary_emb::rope(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope(&k, cos, sin)?;

        let (k, v) = match &self.kv_cache {
            None => (k, v),
            Some((k_cache, v_cache)) => (
                Tensor::cat(&[k_cache, &k], 2)?,
                Tensor::cat(&[v_cache, &v], 2)?,
            ),
        };
        self.kv_cache = Some((k.clone(), v.clone()));

        let n_rep = config.n_head / config.n_kv_head;
        let k = repeat_kv(k, n_rep)?;
        let v = repeat_kv(v, n_rep)?.contiguous()?;
        let scores = (q.matmul(&k.t()?)? / (config.head_dim as f64).sqrt())?;
        let scores = match mask {
            None => scores,
            Some(mask) => {
                let mask = mask.broadcast_as(scores.shape())?;
                let neg_inf = Tensor::new(f32::NEG_INFINITY, scores.device())?
                    .broadcast_as(scores.shape())?;
                mask.where_cond(&neg_inf, &scores)?
            }
        };
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let y = probs.matmul(&v)?;
        let y = y.transpose(1, 2)?.reshape((b, seq_len, n_embd))?;
        self.wo.forward(&y)
    }
}

fn rope_tables(config: &Qwen2Config, device: &Device) -> Result<(Tensor, Tensor)> {
    let inv_freq: Vec<f32> = (0..config.head_dim)
        .step_by(2)
        .map(|i| 1f32 / config.rope_freq_base.powf(i as f32 / config.head_dim as f32))
        .collect();
    let n_freq = inv_freq.len();
    let inv_freq = Tensor::from_vec(inv_freq, (1, n_freq), device)?;
    let positions = Tensor::arange(0, config.context_length as u32, device)?
        .to_dtype(DType::F32)?
        .reshape((config.context_length, 1))?;
    let angles = positions.matmul(&inv_freq)?;
    Ok((angles.cos()?, angles.sin()?))
}

