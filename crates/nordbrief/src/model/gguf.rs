//! A GGUF file checked before it is trusted: the magic bytes, a header that
//! reads, and tensor data that lies inside the file.

use std::io::{Read, Seek};
use std::path::Path;

use super::error::{one_line, ModelError};

/// Checks that `path` is a GGUF file whose header reads and whose tensor data
/// all lies inside the file.
pub fn check_gguf(path: &Path) -> Result<(), ModelError> {
    use candle_core::quantized::gguf_file;
    let not_gguf = |reason: String| ModelError::NotGguf {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = std::fs::File::open(path)
        .map_err(|e| ModelError::io(format!("cannot open {}", path.display()), e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Err(not_gguf("the file is empty".into()));
    }
    let mut magic = [0u8; 4];
    if size < 4 || file.read_exact(&mut magic).is_err() || &magic != b"GGUF" {
        return Err(not_gguf(
            "it does not start with the GGUF magic bytes".into(),
        ));
    }
    file.rewind()
        .map_err(|e| ModelError::io(format!("cannot read {}", path.display()), e))?;
    let mut reader = std::io::BufReader::new(file);
    let content = gguf_file::Content::read(&mut reader).map_err(|e| {
        not_gguf(format!(
            "its header is damaged or cut short: {}",
            one_line(&e.to_string())
        ))
    })?;
    let mut furthest: Option<(&str, u64)> = None;
    for (name, info) in &content.tensor_infos {
        let elements = info.shape.elem_count() as u64;
        let block = info.ggml_dtype.block_size() as u64;
        if elements % block != 0 {
            return Err(not_gguf(format!(
                "tensor `{name}` has {elements} values, not a whole number of blocks"
            )));
        }
        let bytes = (elements / block).saturating_mul(info.ggml_dtype.type_size() as u64);
        let end = content
            .tensor_data_offset
            .saturating_add(info.offset)
            .saturating_add(bytes);
        if furthest.is_none_or(|(_, e)| end > e) {
            furthest = Some((name, end));
        }
    }
    match furthest {
        Some((tensor, needed)) if needed > size => Err(ModelError::Truncated {
            path: path.to_path_buf(),
            tensor: tensor.to_string(),
            needed,
            actual: size,
        }),
        None => Err(not_gguf("it holds no tensors".into())),
        _ => Ok(()),
    }
}
