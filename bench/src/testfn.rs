//! The function the invocation benchmarks run: the `lambda_runtime` test function of
//! `testdata/functions/rust`, built in release mode and shipped as `bootstrap` (mode 0755) for
//! `provided.al2023`. With `MODE=noop` it answers every event with `{"ok":true}`.

use anyhow::Context;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The body the no-op function returns.
pub const NOOP_REPLY: &[u8] = br#"{"ok":true}"#;
/// A build of the test function from nothing takes about 80 s on the reference machine.
const BUILD_LIMIT: Duration = Duration::from_secs(1200);

/// Build the test function (`cargo build --release`) into `target_dir` and return the path of its
/// `bootstrap` binary. An up-to-date build costs a fraction of a second.
pub async fn build(manifest: &Path, target_dir: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = tokio::process::Command::new(&cargo);
    cmd.args(["build", "--release", "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .context("starting cargo to build the test function")?;
    let status = tokio::time::timeout(BUILD_LIMIT, child.wait())
        .await
        .with_context(|| {
            format!(
                "building {} took longer than {BUILD_LIMIT:?}",
                manifest.display()
            )
        })??;
    anyhow::ensure!(
        status.success(),
        "building {} failed ({status})",
        manifest.display()
    );
    let binary = target_dir.join("release").join("bootstrap");
    anyhow::ensure!(
        binary.is_file(),
        "cargo built {} but left no {}",
        manifest.display(),
        binary.display()
    );
    Ok(binary)
}

/// A deployment package: `bootstrap` (deflated, mode 0755), and with a `tag` also a `tag.txt`
/// holding it, so that packages with different tags have different CodeSha256 values and the
/// server extracts each one afresh.
pub fn package(bootstrap: &[u8], tag: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let exe = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o755);
    let mut w = ZipWriter::new(Cursor::new(Vec::with_capacity(bootstrap.len())));
    w.start_file("bootstrap", exe)?;
    w.write_all(bootstrap)?;
    if let Some(tag) = tag {
        let text = SimpleFileOptions::default().unix_permissions(0o644);
        w.start_file("tag.txt", text)?;
        w.write_all(tag.as_bytes())?;
    }
    Ok(w.finish()?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_is_executable_and_tags_differ() -> anyhow::Result<()> {
        let bin = b"\x7fELF pretend".repeat(100);
        let plain = package(&bin, None)?;
        let tagged = package(&bin, Some("a"))?;
        assert_ne!(tagged, package(&bin, Some("b"))?);
        let mut archive = zip::ZipArchive::new(Cursor::new(plain))?;
        assert_eq!(archive.len(), 1);
        let entry = archive.by_name("bootstrap")?;
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(entry.size(), bin.len() as u64);
        let archive = zip::ZipArchive::new(Cursor::new(tagged))?;
        assert_eq!(archive.len(), 2);
        Ok(())
    }
}
