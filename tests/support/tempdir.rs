//! Private temporary directories for test servers (config, docroot, logs), removed on drop.
//!
//! Names follow `spool-test-<kind>-<owner pid>-<sequence>-<nanos>` under the system temp directory,
//! so that [`crate::support::process::reap_stale`] can tell which ones belong to dead test runs.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Common start of every directory name this harness creates in the system temp directory.
pub const NAME_PREFIX: &str = "spool-test-";

/// Distinguishes directories made by the same process within the same nanosecond.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A directory that exists until this guard is dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh, world-readable directory for a server of `kind` (e.g. `"nginx"`).
    ///
    /// World-readable because an nginx worker may run as another user than the test.
    /// Panics if the directory cannot be created: no test can run without it.
    pub fn new(kind: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "{NAME_PREFIX}{kind}-{}-{}-{nanos}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        fs::create_dir(&path)
            .unwrap_or_else(|e| panic!("cannot create temp dir {}: {e}", path.display()));
        set_mode(&path, 0o755);
        TempDir { path }
    }

    /// The directory's absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates directory `relative` (and its parents) inside this one, world-readable.
    pub fn mkdir(&self, relative: &str) -> PathBuf {
        let path = self.path.join(checked_relative(relative));
        fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        set_mode(&path, 0o755);
        path
    }

    /// Writes `bytes` to file `relative` inside this directory, creating parent directories.
    ///
    /// `relative` may contain `/` but must stay inside the directory (no `..`, not absolute).
    pub fn write(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path.join(checked_relative(relative));
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
            // Parents created just now need the same world-readable mode as the root.
            let mut dir = parent;
            while dir.starts_with(&self.path) && dir != self.path {
                set_mode(dir, 0o755);
                dir = dir
                    .parent()
                    .expect("a path under the temp dir has a parent");
            }
        }
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        set_mode(&path, 0o644);
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a failure here must not turn a passing test into a panic during unwinding.
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// The owner pid encoded in a directory name made by [`TempDir::new`] for `kind`.
pub fn owner_pid(dir_name: &str, kind: &str) -> Option<u32> {
    let rest = dir_name.strip_prefix(NAME_PREFIX)?.strip_prefix(kind)?;
    rest.strip_prefix('-')?.split('-').next()?.parse().ok()
}

/// Panics unless `relative` is a non-empty relative path without `..`, so files stay inside the dir.
fn checked_relative(relative: &str) -> &Path {
    let path = Path::new(relative);
    let inside = !relative.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    assert!(
        inside,
        "file name {relative:?} must be a relative path inside the directory"
    );
    path
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
}
