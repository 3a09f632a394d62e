//! A decompression bomb (1 GiB of zeros in a few KiB of brotli, and in zstd) decoded under an
//! 8 MiB limit: the process's peak resident memory must grow by about the limit plus the codec
//! window, never by anything like the 1 GiB the body would expand to.
//!
//! The peak is the kernel's `VmHWM` of a child process that only reads the bomb from a file and
//! decodes it.

use std::io::Write;

use spool_client::decode::{Coding, DecodeError, Decoder};

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn bombs() -> Vec<(Coding, Vec<u8>)> {
    let zeros = vec![0u8; 1 << 20];
    let mut br = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut br, 1 << 16, 5, 24);
        for _ in 0..1024 {
            w.write_all(&zeros).unwrap();
        }
    }
    let mut zst = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    for _ in 0..1024 {
        zst.write_all(&zeros).unwrap();
    }
    vec![(Coding::Brotli, br), (Coding::Zstd, zst.finish().unwrap())]
}

/// Set in the child process: the file holding the bomb, and its coding.
const BOMB_ENV: &str = "SPOOL_DECODE_BOMB";
const LIMIT: u64 = 8 << 20;

/// Each bomb is decoded in a fresh child process (this test binary run again), so memory that
/// building the bomb freed cannot hide inside the measured peak.
#[test]
fn a_one_gib_bomb_costs_about_the_limit_in_memory() {
    if let Ok(spec) = std::env::var(BOMB_ENV) {
        return decode_in_child(&spec);
    }
    for (coding, wire) in bombs() {
        let path = std::env::temp_dir().join(format!("spool-bomb-{}-{coding}", std::process::id()));
        std::fs::write(&path, &wire).unwrap();
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_one_gib_bomb_costs_about_the_limit_in_memory",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(BOMB_ENV, format!("{coding}:{}", path.display()))
            .output()
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert!(child.status.success(), "{coding} child failed: {stderr}");
        let grown_mib: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak-growth-mib="))
            .unwrap_or_else(|| panic!("no figure from the child: {stderr}"))
            .trim()
            .parse()
            .unwrap();
        eprintln!(
            "{coding}: {} compressed bytes stopped at {} MiB decoded; peak RSS grew {grown_mib} MiB",
            wire.len(),
            LIMIT >> 20
        );
        // Limit (8) + its Vec's doubling slack (8) + brotli's 16 MiB window + scratch: < 48.
        assert!(grown_mib < 48, "{coding}: peak RSS grew {grown_mib} MiB");
    }
}

fn decode_in_child(spec: &str) {
    let (token, path) = spec.split_once(':').unwrap();
    let coding = Coding::from_token(token).unwrap();
    let wire = std::fs::read(path).unwrap();
    let before = status_kib("VmHWM:");
    let mut out = Vec::new();
    let mut decoder = Decoder::new(&[coding], Some(LIMIT));
    // Fed in 16 KiB pieces, as a socket would hand them over.
    let err = wire
        .chunks(16 * 1024)
        .find_map(|piece| decoder.decode(piece, &mut out).err())
        .expect("the bomb crosses the limit");
    assert_eq!(err, DecodeError::TooLarge { limit: LIMIT });
    assert_eq!(out.len() as u64, LIMIT);
    let grown = status_kib("VmHWM:").saturating_sub(before) / 1024;
    eprintln!("peak-growth-mib={grown}");
}
