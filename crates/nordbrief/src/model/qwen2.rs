//! Qwen2 forward pass over quantized GGUF weights.
//!
//! Adapted from candle-transformers' `quantized_qwen2`, owned here because the
//! pipeline needs things the stock model lacks: a KV cache that can be cut
//! back to a shared prompt prefix (so chunks of one document reuse the
//! system prompt's cache), and attention that stays fast at long contexts:
//!
//! - the KV cache is preallocated and written in place (no copy of the whole
//!   cache per token), growing in steps up to the model's context;
//! - grouped-query attention multiplies each K/V head with all the query heads
//!   that share it, instead of copying K/V once per query head;
//! - long prompts are attended in blocks of query rows, each against only the
//!   keys it may see, so the score matrix stays small and causally masked work
//!   is skipped; one new token (decode) is attended by [`attention`], which
//!   reads the cache in place instead of packing it for a matrix product;
//! - the token embedding stays quantized and only the rows in use are
//!   dequantized (an f32 copy of a 151,936-row table would cost ~0.9 GB).

pub mod linear;

use candle_core::quantized::{gguf_file, QTensor};
use candle_core::{DType, Device, IndexOp, Module, Result, Storage, Tensor};
use candle_transformers::quantized_nn::RmsNorm;
use linear::QLinear;
use nordbrief_kernels::attention;
use std::sync::Arc;

struct Mlp {
    gate: QLinear,
    down: QLinear,
    up: QLinear,
}

impl Mlp {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let [gate, up] = QLinear::forward_shared([&self.gate, &self.up], xs)?;
        self.down.forward(&(candle_nn::ops::silu(&gate)? * up)?)
    }
}

struct Layer {
    wq: QLinear,
    wk: QLinear,
    wv: QLinear,
    bq: Tensor,
    bk: Tensor,
    bv: Tensor,
    wo: QLinear,
    attention_norm: RmsNorm,
    mlp: Mlp,
    ffn_norm: RmsNorm,
}

/// One conversation's place in the model: its KV cache in every layer and
/// how many positions that cache holds. Sequence 0 is the one `forward`
/// reads into; others are opened by [`Qwen2::copy_prefix`] so that several
/// answers can be written together ([`Qwen2::forward_step`]).
#[derive(Default)]
struct Sequence {
    layers: Vec<KvCache>,
    len: usize,
}

/// Keys and values of every position read so far, each (n_kv_head,
/// capacity, head_dim); positions at and past the model's `cached_len` are
/// unused. Written in place with `slice_set`.
#[derive(Default)]
struct KvCache {
    k: Option<Tensor>,
    v: Option<Tensor>,
}

/// The cache grows by at least this many positions at a time, so that
/// growing (a copy of the cache) happens rarely.
const CACHE_GROWTH: usize = 1024;

/// Score matrices of one attention block stay under this many bytes (about
/// the L3 cache of a small CPU), whatever the context length.
const ATTENTION_BLOCK_BYTES: usize = 8 << 20;

impl KvCache {
    fn capacity(&self) -> usize {
        self.k.as_ref().map(|k| k.dim(1).unwrap_or(0)).unwrap_or(0)
    }

    /// Make room for `needed` positions, keeping the first `len`.
    fn reserve(
        &mut self,
        needed: usize,
        len: usize,
        max: usize,
        shape: (usize, usize),
        device: &Device,
    ) -> Result<()> {
        if needed <= self.capacity() {
            return Ok(());
        }
        let capacity = needed
            .max(self.capacity() * 2)
            .max(CACHE_GROWTH)
            .min(max)
            .max(needed);
        let (n_kv_head, head_dim) = shape;
        let grow = |old: &Option<Tensor>| -> Result<Tensor> {
            let fresh = Tensor::zeros((n_kv_head, capacity, head_dim), DType::F32, device)?;
            if let (Some(old), true) = (old, len > 0) {
                fresh.slice_set(&old.narrow(1, 0, len)?.contiguous()?, 1, 0)?;
            }
            Ok(fresh)
        };
        self.k = Some(grow(&self.k)?);
        self.v = Some(grow(&self.v)?);
        Ok(())
    }

    fn clear(&mut self) {
        self.k = None;
        self.v = None;
    }

    fn tensors(&self) -> Result<(&Tensor, &Tensor)> {
        match (&self.k, &self.v) {
            (Some(k), Some(v)) => Ok((k, v)),
            _ => candle_core::bail!("KV cache not reserved"),
        }
    }

    /// Write keys and values of new positions, each (positions, n_kv_head,
    /// head_dim), from `position` on.
    fn write(&self, k: &Tensor, v: &Tensor, position: usize) -> Result<()> {
        let (k_cache, v_cache) = self.tensors()?;
        let as_cache = |t: &Tensor| -> Result<Tensor> {
            match t.rank() {
                // One position: (n_kv_head, head_dim).
                2 => t.unsqueeze(1)?.contiguous(),
                _ => t.transpose(0, 1)?.contiguous(),
            }
        };
        k_cache.slice_set(&as_cache(k)?, 1, position)?;
        v_cache.slice_set(&as_cache(v)?, 1, position)
    }
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
    /// Token embedding table, kept quantized.
    embeddings: Arc<QTensor>,
    layers: Vec<Layer>,
    norm: RmsNorm,
    output: QLinear,
    cos: Tensor,
    sin: Tensor,
    sequences: Vec<Sequence>,
}

impl Qwen2 {
    pub fn from_gguf<R: std::io::Seek + std::io::Read>(
        ct: &gguf_file::Content,
        reader: &mut R,
        device: &Device,
    ) -> Result<Self> {
        let config = Qwen2Config::from_gguf(ct)?;
        let mut tensor = |name: &str| ct.tensor(reader, name, device);

        let token_embd = Arc::new(tensor("token_embd.weight")?);
        let norm = RmsNorm::from_qtensor(tensor("output_norm.weight")?, config.rms_norm_eps)?;
        // Small Qwen2 models tie the output projection to the embeddings;
        // then both share one copy of the table.
        let output = match tensor("output.weight") {
            Ok(w) => QLinear::new(Arc::new(w)),
            Err(_) => QLinear::new(token_embd.clone()),
        };
        let embeddings = token_embd;

        let mut layers = Vec::with_capacity(config.block_count);
        for i in 0..config.block_count {
            let mut t = |suffix: &str| tensor(&format!("blk.{i}.{suffix}"));
            let layer = Layer {
                wq: QLinear::new(Arc::new(t("attn_q.weight")?)),
                wk: QLinear::new(Arc::new(t("attn_k.weight")?)),
                wv: QLinear::new(Arc::new(t("attn_v.weight")?)),
                bq: t("attn_q.bias")?.dequantize(device)?,
                bk: t("attn_k.bias")?.dequantize(device)?,
                bv: t("attn_v.bias")?.dequantize(device)?,
                wo: QLinear::new(Arc::new(t("attn_output.weight")?)),
                attention_norm: RmsNorm::from_qtensor(t("attn_norm.weight")?, config.rms_norm_eps)?,
                mlp: Mlp {
                    gate: QLinear::new(Arc::new(t("ffn_gate.weight")?)),
                    down: QLinear::new(Arc::new(t("ffn_down.weight")?)),
                    up: QLinear::new(Arc::new(t("ffn_up.weight")?)),
                },
                ffn_norm: RmsNorm::from_qtensor(t("ffn_norm.weight")?, config.rms_norm_eps)?,
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
            sequences: Vec::new(),
        })
    }

    pub fn config(&self) -> &Qwen2Config {
        &self.config
    }

    /// Positions currently held in sequence 0's KV cache.
    pub fn cached_len(&self) -> usize {
        self.sequences.first().map_or(0, |s| s.len)
    }

    /// The sequence `index`, opened (empty) if it was not yet.
    fn sequence(&mut self, index: usize) -> &mut Sequence {
        if self.sequences.len() <= index {
            self.sequences.resize_with(index + 1, Sequence::default);
        }
        let layers = self.layers.len();
        let sequence = &mut self.sequences[index];
        sequence.layers.resize_with(layers, KvCache::default);
        sequence
    }

    /// Cut sequence 0's KV cache back to its first `len` positions, keeping
    /// a shared prompt prefix so that only the rest of a new prompt is read.
    /// Only the length changes: later positions are overwritten when read
    /// again.
    pub fn truncate_cache(&mut self, len: usize) -> Result<()> {
        self.truncate_on(0, len)
    }

    /// [`Qwen2::truncate_cache`] on sequence `index`.
    pub fn truncate_on(&mut self, index: usize, len: usize) -> Result<()> {
        let sequence = self.sequence(index);
        if len >= sequence.len {
            return Ok(());
        }
        if len == 0 {
            // Free the memory of a long document once it is done with.
            sequence.layers.iter_mut().for_each(KvCache::clear);
        }
        sequence.len = len;
        Ok(())
    }

    /// Make sequence `to` hold the first `len` positions of sequence `from`,
    /// so that a second prompt sharing that prefix reads only the rest, with
    /// room for `room` positions in all (so the cache need not grow, and
    /// with it be copied, while the rest is read and written).
    pub fn copy_prefix(&mut self, from: usize, to: usize, len: usize, room: usize) -> Result<()> {
        if from == to || self.sequence(from).len < len {
            candle_core::bail!("copy_prefix: sequence {from} does not hold {len} positions");
        }
        let (max, shape, device) = self.cache_facts();
        self.sequence(to);
        let (source, target) = if from < to {
            let (low, high) = self.sequences.split_at_mut(to);
            (&low[from], &mut high[0])
        } else {
            let (low, high) = self.sequences.split_at_mut(from);
            (&high[0], &mut low[to])
        };
        for (source, target) in source.layers.iter().zip(&mut target.layers) {
            target.reserve(room.max(len).max(1), 0, max, shape, &device)?;
            if len > 0 {
                if let (Some(sk), Some(sv), Some(tk), Some(tv)) =
                    (&source.k, &source.v, &target.k, &target.v)
                {
                    tk.slice_set(&sk.narrow(1, 0, len)?.contiguous()?, 1, 0)?;
                    tv.slice_set(&sv.narrow(1, 0, len)?.contiguous()?, 1, 0)?;
                }
            }
        }
        target.len = len;
        Ok(())
    }

    /// Free the KV cache of every sequence but 0.
    pub fn release_sequences(&mut self) {
        self.sequences.truncate(1);
    }

    fn cache_facts(&self) -> (usize, (usize, usize), Device) {
        let c = &self.config;
        (
            c.context_length,
            (c.n_kv_head, c.head_dim),
            self.cos.device().clone(),
        )
    }

    /// Read `tokens` at the positions following sequence 0's cache and
    /// return the logits of the last one, shape (vocab,).
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Tensor> {
        self.forward_on(0, tokens)
    }

    /// [`Qwen2::forward`] on sequence `index`.
    pub fn forward_on(&mut self, index: usize, tokens: &[u32]) -> Result<Tensor> {
        let seq_len = tokens.len();
        if seq_len == 0 {
            candle_core::bail!("forward needs at least one token");
        }
        let (max, kv_shape, device) = self.cache_facts();
        let index_pos = self.sequence(index).len;
        if index_pos + seq_len > max {
            candle_core::bail!(
                "prompt of {} tokens exceeds the model's context of {max}",
                index_pos + seq_len,
            );
        }
        let input = Tensor::new(tokens, &device)?;
        let cos = self.cos.narrow(0, index_pos, seq_len)?;
        let sin = self.sin.narrow(0, index_pos, seq_len)?;
        let blocks = attention_blocks(&self.config, index_pos, seq_len, &device)?;

        let sequence = &mut self.sequences[index];
        let mut hidden = self.embeddings.embedding(&input)?.unsqueeze(0)?;
        for (layer, cache) in self.layers.iter().zip(&mut sequence.layers) {
            cache.reserve(index_pos + seq_len, index_pos, max, kv_shape, &device)?;
            let residual = &hidden;
            let x = layer.attention_norm.forward(&hidden)?;
            let attn = layer.attention(&self.config, cache, &x, index_pos, &blocks, &cos, &sin)?;
            let x = (attn + residual)?;
            let residual = &x;
            let y = layer.mlp.forward(&layer.ffn_norm.forward(&x)?)?;
            hidden = (y + residual)?;
        }
        sequence.len += seq_len;
        let last = self
            .norm
            .forward(&hidden.i((.., seq_len - 1.., ..))?.contiguous()?)?;
        self.output
            .forward(&last)?
            .flatten_all()?
            .to_dtype(DType::F32)
    }

    /// One new token for each of several sequences at once (decode): `steps`
    /// pairs a sequence with the token it reads next. The weights are read
    /// once for all of them, which is where one-token decode spends its
    /// time. Returns the logits of each, shape (steps, vocab).
    pub fn forward_step(&mut self, steps: &[(usize, u32)]) -> Result<Tensor> {
        let rows = steps.len();
        if rows == 0 {
            candle_core::bail!("forward_step needs at least one sequence");
        }
        let (max, kv_shape, device) = self.cache_facts();
        let mut positions = Vec::with_capacity(rows);
        for (i, &(index, _)) in steps.iter().enumerate() {
            if steps[..i].iter().any(|&(other, _)| other == index) {
                candle_core::bail!("forward_step: sequence {index} given twice");
            }
            let len = self.sequence(index).len;
            if len + 1 > max {
                candle_core::bail!(
                    "prompt of {} tokens exceeds the model's context of {max}",
                    len + 1
                );
            }
            positions.push(len as u32);
        }
        let tokens: Vec<u32> = steps.iter().map(|&(_, token)| token).collect();
        let input = Tensor::new(tokens.as_slice(), &device)?;
        let at = Tensor::new(positions.as_slice(), &device)?;
        let (cos, sin) = (
            self.cos.index_select(&at, 0)?,
            self.sin.index_select(&at, 0)?,
        );

        for (&(index, _), &position) in steps.iter().zip(&positions) {
            let position = position as usize;
            for cache in &mut self.sequences[index].layers {
                cache.reserve(position + 1, position, max, kv_shape, &device)?;
            }
        }
        let mut hidden = self.embeddings.embedding(&input)?.unsqueeze(0)?;
        for (l, layer) in self.layers.iter().enumerate() {
            let caches: Vec<&KvCache> = steps
                .iter()
                .map(|&(index, _)| &self.sequences[index].layers[l])
                .collect();
            let residual = &hidden;
            let x = layer.attention_norm.forward(&hidden)?;
            let attn = layer.attention_step(&self.config, &caches, &x, &positions, &cos, &sin)?;
            let x = (attn + residual)?;
            let residual = &x;
            let y = layer.mlp.forward(&layer.ffn_norm.forward(&x)?)?;
            hidden = (y + residual)?;
        }
        for &(index, _) in steps {
            self.sequences[index].len += 1;
        }
        let last = self.norm.forward(&hidden)?;
        self.output.forward(&last)?.squeeze(0)?.to_dtype(DType::F32)
    }
}

/// One block of query rows for attention: rows `start..start + len` of the
/// batch attend to the first `keys` cached positions, with `mask` (additive,
/// (len, 1, keys)) hiding the positions after each row's own.
struct AttentionBlock {
    start: usize,
    len: usize,
    keys: usize,
    mask: Option<Tensor>,
}

/// Split a batch of `seq_len` new rows following `index_pos` cached ones into
/// blocks whose score matrices stay small. The blocks and their masks are
/// shared by every layer.
fn attention_blocks(
    config: &Qwen2Config,
    index_pos: usize,
    seq_len: usize,
    device: &Device,
) -> Result<Vec<AttentionBlock>> {
    let total = index_pos + seq_len;
    let row_bytes = config.n_head * total * std::mem::size_of::<f32>();
    let rows_per_block = (ATTENTION_BLOCK_BYTES / row_bytes.max(1)).clamp(16, seq_len.max(16));
    let mut blocks = Vec::new();
    let mut start = 0;
    while start < seq_len {
        let len = rows_per_block.min(seq_len - start);
        // The block's last row sees up to and including its own position.
        let keys = index_pos + start + len;
        let mask = if len == 1 {
            None
        } else {
            let mut values = vec![0f32; len * keys];
            for row in 0..len {
                let visible = index_pos + start + row + 1;
                values[row * keys + visible..(row + 1) * keys].fill(f32::NEG_INFINITY);
            }
            Some(Tensor::from_vec(values, (len, 1, keys), device)?)
        };
        blocks.push(AttentionBlock {
            start,
            len,
            keys,
            mask,
        });
        start += len;
    }
    Ok(blocks)
}

impl Layer {
    /// Queries, keys and values of `x` (batch, rows, embedding), each
    /// (batch, rows, heads, head_dim), rotated to the positions in `cos` and
    /// `sin` (one row each), with the queries already scaled.
    fn project(
        &self,
        config: &Qwen2Config,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
    ) -> Result<[Tensor; 3]> {
        let (b, seq_len, _) = x.dims3()?;
        let head_dim = config.head_dim;
        // Rows are (batch, position, head, dim): rope works on that layout
        // directly, so no transpose is needed before it.
        let [q, k, v] = QLinear::forward_shared([&self.wq, &self.wk, &self.wv], x)?;
        let add_bias = |y: Tensor, bias: &Tensor, heads: usize| -> Result<Tensor> {
            y.broadcast_add(bias)?
                .reshape((b, seq_len, heads, head_dim))
        };
        let q = add_bias(q, &self.bq, config.n_head)?;
        let k = add_bias(k, &self.bk, config.n_kv_head)?;
        let v = add_bias(v, &self.bv, config.n_kv_head)?;
        // Scaling q (seq × n_head × head_dim values) is cheaper than scaling
        // the scores (seq × n_head × context).
        let q =
            (candle_nn::rotary_emb::rope_thd(&q, cos, sin)? * (1.0 / (head_dim as f64).sqrt()))?;
        let k = candle_nn::rotary_emb::rope_thd(&k, cos, sin)?;
        Ok([q, k, v])
    }

    #[allow(clippy::too_many_arguments)]
    fn attention(
        &self,
        config: &Qwen2Config,
        cache: &KvCache,
        x: &Tensor,
        index_pos: usize,
        blocks: &[AttentionBlock],
        cos: &Tensor,
        sin: &Tensor,
    ) -> Result<Tensor> {
        let (_, seq_len, n_embd) = x.dims3()?;
        let head_dim = config.head_dim;
        let (n_head, n_kv_head) = (config.n_head, config.n_kv_head);
        let n_rep = n_head / n_kv_head;
        let [q, k, v] = self.project(config, x, cos, sin)?;
        // Append the new keys and values in place: (n_kv_head, seq, head_dim).
        cache.write(&k.squeeze(0)?, &v.squeeze(0)?, index_pos)?;
        let (k_cache, v_cache) = cache.tensors()?;

        if seq_len == 1 {
            let y = attend_one(config, cache, &q.flatten_all()?, index_pos + 1)?;
            return self.wo.forward(&y.reshape((1, 1, n_embd))?);
        }

        // Queries grouped by the K/V head they share: (n_kv_head, seq, n_rep, head_dim).
        let q = q
            .squeeze(0)?
            .reshape((seq_len, n_kv_head, n_rep, head_dim))?
            .transpose(0, 1)?;
        let mut outputs = Vec::with_capacity(blocks.len());
        for block in blocks {
            let rows = block.len * n_rep;
            let q = q
                .narrow(1, block.start, block.len)?
                .contiguous()?
                .reshape((n_kv_head, rows, head_dim))?;
            let k = k_cache.narrow(1, 0, block.keys)?;
            let v = v_cache.narrow(1, 0, block.keys)?;
            let scores = q.matmul(&k.t()?)?;
            let scores = match &block.mask {
                None => scores,
                Some(mask) => scores
                    .reshape((n_kv_head, block.len, n_rep, block.keys))?
                    .broadcast_add(mask)?
                    .reshape((n_kv_head, rows, block.keys))?,
            };
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            // (n_kv_head, rows, head_dim) → (rows of the block, n_head × head_dim)
            let y = probs
                .matmul(&v)?
                .reshape((n_kv_head, block.len, n_rep * head_dim))?
                .transpose(0, 1)?;
            outputs.push(y.contiguous()?.reshape((block.len, n_embd))?);
        }
        let y = if outputs.len() == 1 {
            outputs.pop().expect("one block")
        } else {
            Tensor::cat(&outputs, 0)?
        };
        self.wo.forward(&y.unsqueeze(0)?)
    }

    /// Attention for one new token in each of several sequences: row r of
    /// `x` belongs to `caches[r]` at `positions[r]`.
    fn attention_step(
        &self,
        config: &Qwen2Config,
        caches: &[&KvCache],
        x: &Tensor,
        positions: &[u32],
        cos: &Tensor,
        sin: &Tensor,
    ) -> Result<Tensor> {
        let (_, rows, n_embd) = x.dims3()?;
        let [q, k, v] = self.project(config, x, cos, sin)?;
        let mut outputs = Vec::with_capacity(rows);
        for (r, (cache, &position)) in caches.iter().zip(positions).enumerate() {
            let position = position as usize;
            cache.write(&k.i((0, r))?, &v.i((0, r))?, position)?;
            outputs.push(attend_one(
                config,
                cache,
                &q.i((0, r))?.flatten_all()?,
                position + 1,
            )?);
        }
        let y = Tensor::stack(&outputs, 0)?.reshape((1, rows, n_embd))?;
        self.wo.forward(&y)
    }
}

/// Softmax(q·Kᵀ)·V of one token's queries (n_head × head_dim values,
/// already scaled) over the first `keys` positions of `cache`; returns
/// n_head × head_dim values.
fn attend_one(config: &Qwen2Config, cache: &KvCache, q: &Tensor, keys: usize) -> Result<Tensor> {
    let (head_dim, n_kv_head) = (config.head_dim, config.n_kv_head);
    let n_rep = config.n_head / n_kv_head;
    let (k_cache, v_cache) = cache.tensors()?;
    if head_dim % 8 == 0 && n_rep <= attention::MAX_GROUP && nordbrief_kernels::available() {
        let q = q.to_vec1::<f32>()?;
        let (k_storage, k_layout) = k_cache.storage_and_layout();
        let (v_storage, v_layout) = v_cache.storage_and_layout();
        let (Storage::Cpu(k), Storage::Cpu(v)) = (&*k_storage, &*v_storage) else {
            candle_core::bail!("decode attention needs the KV cache on the CPU");
        };
        let k = &k.as_slice::<f32>()?[k_layout.start_offset()..];
        let v = &v.as_slice::<f32>()?[v_layout.start_offset()..];
        let capacity = k_cache.dim(1)?;
        let y = attention::one_token(&q, k, v, n_kv_head, head_dim, capacity, keys);
        return Tensor::from_vec(y, config.n_head * head_dim, k_cache.device());
    }
    let q = q.reshape((n_kv_head, n_rep, head_dim))?;
    let scores = q.matmul(&k_cache.narrow(1, 0, keys)?.t()?)?;
    let probs = candle_nn::ops::softmax_last_dim(&scores)?;
    probs.matmul(&v_cache.narrow(1, 0, keys)?)?.flatten_all()
}

fn rope_tables(config: &Qwen2Config, device: &Device) -> Result<(Tensor, Tensor)> {
    let inv_freq: Vec<f32> = (0..config.head_dim)
        .step_by(2)
        .map(|i| {
            1f32 / config
                .rope_freq_base
                .powf(i as f32 / config.head_dim as f32)
        })
        .collect();
    let n_freq = inv_freq.len();
    let inv_freq = Tensor::from_vec(inv_freq, (1, n_freq), device)?;
    let positions = Tensor::arange(0, config.context_length as u32, device)?
        .to_dtype(DType::F32)?
        .reshape((config.context_length, 1))?;
    let angles = positions.matmul(&inv_freq)?;
    Ok((angles.cos()?, angles.sin()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(n_head: usize) -> Qwen2Config {
        Qwen2Config {
            n_head,
            n_kv_head: 1,
            head_dim: 4,
            embedding_length: 4 * n_head,
            block_count: 1,
            context_length: 1 << 20,
            rms_norm_eps: 1e-6,
            rope_freq_base: 10_000.0,
        }
    }

    #[test]
    fn blocks_cover_the_batch_and_mask_exactly_the_future() {
        let index_pos = 5;
        for (n_head, seq_len) in [(2, 7), (64, 300), (4096, 40)] {
            let blocks =
                attention_blocks(&config(n_head), index_pos, seq_len, &Device::Cpu).unwrap();
            assert_eq!(blocks.iter().map(|b| b.len).sum::<usize>(), seq_len);
            let mut next = 0;
            for block in &blocks {
                assert_eq!(block.start, next);
                next += block.len;
                assert_eq!(block.keys, index_pos + block.start + block.len);
                let mask = block
                    .mask
                    .as_ref()
                    .unwrap()
                    .squeeze(1)
                    .unwrap()
                    .to_vec2::<f32>()
                    .unwrap();
                for (row, values) in mask.iter().enumerate() {
                    let visible = index_pos + block.start + row + 1;
                    assert!(values[..visible].iter().all(|&v| v == 0.0), "row {row}");
                    assert!(
                        values[visible..].iter().all(|&v| v == f32::NEG_INFINITY),
                        "row {row}"
                    );
                }
            }
            // Large score matrices are split into several blocks.
            assert_eq!(
                blocks.len() > 1,
                n_head * (index_pos + seq_len) * 4 * seq_len > ATTENTION_BLOCK_BYTES
            );
        }
        // One new token (decode) needs no mask.
        let blocks = attention_blocks(&config(2), 9, 1, &Device::Cpu).unwrap();
        assert_eq!((blocks.len(), blocks[0].keys), (1, 10));
        assert!(blocks[0].mask.is_none());
    }

    #[test]
    fn growing_the_cache_keeps_what_it_holds() {
        let mut cache = KvCache { k: None, v: None };
        cache.reserve(3, 0, 1 << 20, (2, 4), &Device::Cpu).unwrap();
        assert_eq!(cache.capacity(), CACHE_GROWTH);
        let values = Tensor::arange(0f32, 24.0, &Device::Cpu)
            .unwrap()
            .reshape((2, 3, 4))
            .unwrap();
        cache.k.as_ref().unwrap().slice_set(&values, 1, 0).unwrap();
        cache
            .reserve(CACHE_GROWTH + 1, 3, 1 << 20, (2, 4), &Device::Cpu)
            .unwrap();
        assert_eq!(cache.capacity(), 2 * CACHE_GROWTH);
        let kept = cache.k.as_ref().unwrap().narrow(1, 0, 3).unwrap();
        assert_eq!(
            kept.to_vec3::<f32>().unwrap(),
            values.to_vec3::<f32>().unwrap()
        );
        // Doubling stops at the model's context.
        cache
            .reserve(
                2 * CACHE_GROWTH + 1,
                3,
                2 * CACHE_GROWTH + 100,
                (2, 4),
                &Device::Cpu,
            )
            .unwrap();
        assert_eq!(cache.capacity(), 2 * CACHE_GROWTH + 100);
    }
}
