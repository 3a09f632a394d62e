//! Round trips through real encoders (flate2, brotli, zstd), every way of splitting the input,
//! stacks, the limit, truncation and corruption.

use std::io::Write;

use super::*;

/// Text that compresses as real pages do, with enough variety to need several blocks.
fn sample(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut x: u32 = 7;
    while out.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        writeln!(
            out,
            "<li id=\"{}\">item {} of the list</li>",
            x >> 16,
            x % 977
        )
        .unwrap();
    }
    out.truncate(len);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn br(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = ::brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn zst(data: &[u8]) -> Vec<u8> {
    ::zstd::encode_all(data, 3).unwrap()
}

fn encode(coding: Coding, data: &[u8]) -> Vec<u8> {
    match coding {
        Coding::Gzip => gzip(data),
        Coding::Deflate => zlib(data),
        Coding::Brotli => br(data),
        Coding::Zstd => zst(data),
    }
}

/// Decodes `wire` fed in pieces of `step` bytes.
fn decode_in_steps(
    codings: &[Coding],
    wire: &[u8],
    step: usize,
    limit: Option<u64>,
) -> Result<Vec<u8>, DecodeError> {
    let mut d = Decoder::new(codings, limit);
    let mut out = Vec::new();
    for piece in wire.chunks(step) {
        d.decode(piece, &mut out)?;
    }
    d.finish(&mut out)?;
    assert_eq!(d.wire_bytes(), wire.len() as u64);
    assert_eq!(d.decoded_bytes(), out.len() as u64);
    Ok(out)
}

const ALL: [Coding; 4] = [Coding::Gzip, Coding::Deflate, Coding::Brotli, Coding::Zstd];

#[test]
fn every_coding_round_trips_however_the_input_is_split() {
    let data = sample(300_000);
    for coding in ALL {
        let wire = encode(coding, &data);
        assert!(wire.len() < data.len() / 2, "{coding} compressed");
        for step in [1, 7, 4096, wire.len()] {
            let got = decode_in_steps(&[coding], &wire, step, None).unwrap();
            assert!(got == data, "{coding} in steps of {step}");
        }
    }
}

#[test]
fn deflate_accepts_zlib_and_raw_deflate() {
    let data = sample(50_000);
    for wire in [zlib(&data), raw_deflate(&data)] {
        for step in [1, 2, 3, 1000] {
            let got = decode_in_steps(&[Coding::Deflate], &wire, step, None).unwrap();
            assert!(got == data, "step {step}");
        }
    }
}

#[test]
fn gzip_with_several_members_decodes_them_all() {
    let mut wire = gzip(b"first, ");
    wire.extend(gzip(b"second"));
    assert_eq!(
        decode_in_steps(&[Coding::Gzip], &wire, 3, None).unwrap(),
        b"first, second"
    );
}

#[test]
fn zstd_with_several_frames_decodes_them_all() {
    let mut wire = zst(b"first, ");
    wire.extend(zst(b"second"));
    assert_eq!(
        decode_in_steps(&[Coding::Zstd], &wire, 5, None).unwrap(),
        b"first, second"
    );
}

#[test]
fn stacked_codings_are_undone_last_first() {
    let data = sample(100_000);
    // `Content-Encoding: gzip, br`: gzipped, then brotli over that.
    let wire = br(&gzip(&data));
    for step in [1, 999, wire.len()] {
        let got = decode_in_steps(&[Coding::Gzip, Coding::Brotli], &wire, step, None).unwrap();
        assert!(got == data, "step {step}");
    }
    // The other order is another body, and fails.
    let err = decode_in_steps(&[Coding::Brotli, Coding::Gzip], &wire, 999, None).unwrap_err();
    assert!(matches!(err, DecodeError::Corrupt { .. }), "{err}");
}

#[test]
fn the_limit_counts_decoded_bytes_and_cuts_exactly_there() {
    let data = sample(200_000);
    for coding in ALL {
        let wire = encode(coding, &data);
        let exact = decode_in_steps(&[coding], &wire, 1000, Some(data.len() as u64)).unwrap();
        assert_eq!(
            exact.len(),
            data.len(),
            "{coding}: a body of exactly the limit is fine"
        );

        let limit = data.len() as u64 - 1;
        let mut d = Decoder::new(&[coding], Some(limit));
        let mut out = Vec::new();
        let mut err = None;
        for piece in wire.chunks(1000) {
            if let Err(e) = d.decode(piece, &mut out) {
                err = Some(e);
                break;
            }
        }
        let err = err
            .or_else(|| d.finish(&mut out).err())
            .expect("over the limit");
        assert_eq!(err, DecodeError::TooLarge { limit }, "{coding}");
        assert_eq!(
            out.len() as u64,
            limit,
            "{coding}: output stops at the limit"
        );
        assert!(
            out[..] == data[..out.len()],
            "{coding}: and is the right prefix"
        );
        // Failed for good.
        assert_eq!(d.decode(b"x", &mut out), Err(err.clone()));
        assert_eq!(d.finish(&mut out), Err(err));
    }
}

/// 1 GiB of zeros, encoded while it is generated (never held), through `coding`.
fn bomb(coding: Coding) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    match coding {
        Coding::Brotli => {
            let mut out = Vec::new();
            {
                let mut w = ::brotli::CompressorWriter::new(&mut out, 1 << 16, 5, 24);
                for _ in 0..1024 {
                    w.write_all(&zeros).unwrap();
                }
            }
            out
        }
        Coding::Zstd => {
            let mut w = ::zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
            for _ in 0..1024 {
                w.write_all(&zeros).unwrap();
            }
            w.finish().unwrap()
        }
        _ => unreachable!("gzip tops out at ~1000:1; the stacked bomb covers it"),
    }
}

#[test]
fn decompression_bombs_stop_at_the_limit() {
    let limit = 1 << 20;
    for coding in [Coding::Brotli, Coding::Zstd] {
        let wire = bomb(coding);
        assert!(
            wire.len() < 64 * 1024,
            "{coding} bomb is {} bytes",
            wire.len()
        );
        let mut out = Vec::new();
        let err = Decoder::new(&[coding], Some(limit))
            .decode(&wire, &mut out)
            .unwrap_err();
        assert_eq!(err, DecodeError::TooLarge { limit }, "{coding}");
        assert_eq!(out.len() as u64, limit);
        // Never grew for what it did not keep.
        assert!(
            out.capacity() as u64 <= 2 * limit,
            "{coding}: {}",
            out.capacity()
        );
    }
    // gzip inside brotli: the inner stage is held to the limit as well.
    let mut inner = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        inner.write_all(&zeros).unwrap();
    }
    let wire = br(&inner.finish().unwrap());
    let mut out = Vec::new();
    let err = Decoder::new(&[Coding::Gzip, Coding::Brotli], Some(limit))
        .decode(&wire, &mut out)
        .unwrap_err();
    assert_eq!(err, DecodeError::TooLarge { limit });
    assert_eq!(out.len() as u64, limit);
}

#[test]
fn a_body_cut_short_is_truncated_not_short() {
    let data = sample(100_000);
    for coding in ALL {
        let wire = encode(coding, &data);
        // Cut inside the compressed data: the stream never reached its end.
        let cut = &wire[..wire.len() / 2];
        let err = decode_in_steps(&[coding], cut, 500, None).unwrap_err();
        assert!(
            matches!(err, DecodeError::Truncated { .. }),
            "{coding}: {err:?}"
        );
        assert!(err.to_string().contains("cut short"), "{err}");
        // Cut in the last bytes (gzip's trailer, zlib's checksum): still an error, never a
        // short success (flate2 reports a gzip trailer cut short as a checksum mismatch).
        let cut = &wire[..wire.len() - 3];
        assert!(
            decode_in_steps(&[coding], cut, 500, None).is_err(),
            "{coding}"
        );
    }
}

#[test]
fn garbage_is_corrupt_naming_the_coding() {
    let junk = b"this is not compressed at all, not in any coding we know of";
    for coding in ALL {
        let err = decode_in_steps(&[coding], junk, 10, None).unwrap_err();
        assert!(
            matches!(err, DecodeError::Corrupt { coding: c, .. } if c == coding),
            "{coding}: {err:?}"
        );
        assert!(err
            .to_string()
            .starts_with(&format!("the {coding} body is corrupt")));
    }
}

#[test]
fn an_empty_body_is_not_an_error() {
    // HEAD, 204 and 304 responses keep the Content-Encoding header but have no body.
    for coding in ALL {
        assert_eq!(decode_in_steps(&[coding], b"", 1, None).unwrap(), b"");
    }
}

#[test]
fn no_codings_passes_through_under_the_limit() {
    assert_eq!(decode_in_steps(&[], b"abc", 1, Some(3)).unwrap(), b"abc");
    let err = decode_in_steps(&[], b"abcd", 1, Some(3)).unwrap_err();
    assert_eq!(err, DecodeError::TooLarge { limit: 3 });
}

#[test]
fn zstd_frames_asking_for_a_huge_window_are_refused() {
    let mut e = ::zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    e.set_parameter(::zstd::stream::raw::CParameter::WindowLog(27))
        .unwrap();
    e.write_all(&sample(10_000)).unwrap();
    let wire = e.finish().unwrap();
    let err = decode_in_steps(&[Coding::Zstd], &wire, 100, None).unwrap_err();
    assert!(err.to_string().contains("8 MiB"), "{err}");
}

#[test]
fn header_lists_parse_in_order() {
    let mut h = http::HeaderMap::new();
    h.append("content-encoding", "gzip".parse().unwrap());
    h.append("content-encoding", " BR ,, identity".parse().unwrap());
    assert_eq!(codings(&h).unwrap(), vec![Coding::Gzip, Coding::Brotli]);
    h.insert("content-encoding", "gzip, compress".parse().unwrap());
    let err = codings(&h).unwrap_err();
    assert_eq!(err, DecodeError::Unsupported("compress".into()));
    assert!(err.to_string().contains("\"compress\""), "{err}");
    assert!(codings(&http::HeaderMap::new()).unwrap().is_empty());
}
