//! The backup archive: one file holding a node's data directory files and a logical, backend-
//! independent snapshot of its store. Owns the file format and its integrity checks; the
//! commands (`commands/backup.rs`) decide what goes in and where it is restored. Must not open
//! the database itself (the store's `backup_read` and `restore` do) nor the network.
//!
//! Why a logical archive rather than a copy of the database (`VACUUM INTO`, `pg_dump`): the
//! entries are the node's truth and everything else but a few node-local tables is a projection
//! of them. Keeping the entries as their exact signed bytes plus those tables makes one format
//! for both backends (a SQLite node can be restored into PostgreSQL when it grows), lets a
//! restore re-verify every signature instead of trusting copied pages, and survives schema
//! upgrades: a newer binary restores into its own, migrated schema and rebuilds the projections.
//!
//! Layout: the line `QUANZE-BACKUP`, then parts, each a name line, a 20-digit length line and
//! that many bytes; the last part is `manifest.json`, which lists every other part with its
//! length and SHA-256. The store's records are gzip-compressed JSON lines (`store.jsonl.gz`);
//! data directory files are stored as they are under `files/`. The manifest comes last so the
//! store part can be streamed; a reader checks every hash before it writes anything.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use quanze_store::StoreError;
use quanze_store::backup::{BackupRecord, BackupSummary};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const MAGIC: &[u8] = b"QUANZE-BACKUP\n";
/// The format this binary writes and reads.
pub const FORMAT: &str = "quanze-backup-1";
pub const MANIFEST_PART: &str = "manifest.json";
pub const STORE_PART: &str = "store.jsonl.gz";
/// Data directory files are stored under this prefix (`files/node.key`, `files/tls/cert.pem`).
pub const FILE_PREFIX: &str = "files/";

/// What the archive holds; written last, read first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The `quanze` version that wrote the backup.
    pub product_version: String,
    /// The last migration of the database it was read from.
    pub schema_version: i64,
    pub division: String,
    pub tier: String,
    pub name: String,
    /// `sqlite` or `postgres`: where it was read from (a restore may choose the other).
    pub engine: String,
    pub created_at: String,
    pub entries: u64,
    pub local_rows: u64,
    pub origins: Vec<OriginHeld>,
    pub parts: Vec<PartInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginHeld {
    pub origin: String,
    pub seq: u64,
    pub entries: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn origins_from(summary: &BackupSummary) -> Vec<OriginHeld> {
        summary.origins.iter().map(|(o, seq, n)| OriginHeld { origin: o.clone(), seq: *seq, entries: *n }).collect()
    }
}

/// Counts and hashes what passes through to the file.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes an archive to a new file (mode 0600: it holds the node's private key).
#[derive(Debug)]
pub struct ArchiveWriter {
    file: BufWriter<File>,
    parts: Vec<PartInfo>,
}

impl ArchiveWriter {
    /// Creates `path`; refuses to overwrite a file.
    pub fn create(path: &Path) -> anyhow::Result<ArchiveWriter> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("无法创建备份文件 {} / cannot create the backup file", path.display()))?;
        let mut file = BufWriter::new(file);
        file.write_all(MAGIC)?;
        Ok(ArchiveWriter { file, parts: Vec::new() })
    }

    fn header(&mut self, name: &str, len: u64) -> std::io::Result<()> {
        write!(self.file, "{name}\n{len:020}\n")
    }

    /// Adds one part held in memory.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.header(name, bytes.len() as u64)?;
        self.file.write_all(bytes)?;
        self.parts.push(PartInfo {
            name: name.to_string(),
            bytes: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        });
        Ok(())
    }

    /// Streams the store's records into a gzip-compressed JSON-lines part: `fill` gets a sink
    /// for the records. The length is written back once known.
    pub async fn add_store<F, Fut>(&mut self, fill: F) -> anyhow::Result<BackupSummary>
    where
        F: FnOnce(RecordSink) -> Fut,
        Fut: std::future::Future<Output = Result<(BackupSummary, RecordSink), StoreError>>,
    {
        self.header(STORE_PART, 0)?;
        self.file.flush()?;
        let start = self.file.get_mut().stream_position()?;
        let out = Hashing { inner: self.file.get_mut().try_clone()?, hasher: Sha256::new(), bytes: 0 };
        let sink = RecordSink { gz: flate2::write::GzEncoder::new(BufWriter::new(out), flate2::Compression::fast()) };
        let (summary, sink) = fill(sink).await?;
        let out = sink.gz.finish()?.into_inner().map_err(|e| e.into_error())?;
        let file = self.file.get_mut();
        // The length line sits just before the part's bytes: 20 digits and a newline.
        file.seek(SeekFrom::Start(start - 21))?;
        write!(file, "{:020}", out.bytes)?;
        file.seek(SeekFrom::End(0))?;
        self.parts.push(PartInfo {
            name: STORE_PART.into(),
            bytes: out.bytes,
            sha256: hex::encode(out.hasher.finalize()),
        });
        Ok(summary)
    }

    /// Writes the manifest (with every part's hash) and syncs the file.
    pub fn finish(mut self, mut manifest: Manifest) -> anyhow::Result<Manifest> {
        manifest.parts = std::mem::take(&mut self.parts);
        let json = serde_json::to_vec_pretty(&manifest)?;
        self.header(MANIFEST_PART, json.len() as u64)?;
        self.file.write_all(&json)?;
        self.file.flush()?;
        self.file.get_ref().sync_all()?;
        Ok(manifest)
    }
}

/// Where `backup_read` puts records: one JSON line each, compressed.
#[derive(Debug)]
pub struct RecordSink {
    gz: flate2::write::GzEncoder<BufWriter<HashingFile>>,
}

type HashingFile = Hashing<File>;

impl std::fmt::Debug for Hashing<File> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hashing({} bytes)", self.bytes)
    }
}

impl RecordSink {
    pub fn put(&mut self, record: &BackupRecord) -> Result<(), StoreError> {
        let io = |e: std::io::Error| StoreError::Corrupt(format!("无法写入备份 / cannot write the backup: {e}"));
        serde_json::to_writer(&mut self.gz, record).map_err(|e| io(e.into()))?;
        self.gz.write_all(b"\n").map_err(io)
    }
}

/// An archive whose every part was read and checked against the manifest.
#[derive(Debug)]
pub struct CheckedArchive {
    pub manifest: Manifest,
    /// Small parts (the data directory files), by name.
    pub files: Vec<(String, Vec<u8>)>,
    path: std::path::PathBuf,
    store_offset: u64,
    store_len: u64,
}

/// Reads `path` through once: the layout, every part's length and SHA-256 against the manifest,
/// the manifest's format. Nothing is written anywhere.
pub fn check(path: &Path) -> anyhow::Result<CheckedArchive> {
    let file = File::open(path).with_context(|| format!("无法读取备份 {} / cannot read the backup", path.display()))?;
    let total = file.metadata()?.len();
    let mut r = BufReader::new(file);
    let mut magic = vec![0u8; MAGIC.len()];
    if r.read_exact(&mut magic).is_err() || magic != MAGIC {
        bail!("{} 不是 quanze 备份文件 / not a quanze backup", path.display());
    }
    let mut pos = MAGIC.len() as u64;
    let mut seen: Vec<(PartInfo, u64)> = Vec::new();
    let mut files = Vec::new();
    let truncated = |what: &str| anyhow::anyhow!("{} 不完整（{what}）/ the backup is truncated", path.display());
    let manifest: Manifest = loop {
        let mut name = String::new();
        let mut len = String::new();
        if r.read_line(&mut name)? == 0 || r.read_line(&mut len)? == 0 {
            return Err(truncated("缺少清单 / no manifest"));
        }
        let name = name.trim_end_matches('\n').to_string();
        let len: u64 = len.trim().parse().map_err(|_| truncated(&name))?;
        pos += (name.len() + 1 + 21) as u64;
        if pos + len > total {
            return Err(truncated(&name));
        }
        let offset = pos;
        let mut hasher = Sha256::new();
        let mut keep = Vec::new();
        let small = name != STORE_PART;
        let mut left = len;
        let mut buf = vec![0u8; 1 << 16];
        while left > 0 {
            let room = left.min(buf.len() as u64) as usize;
            let n = r.read(&mut buf[..room])?;
            if n == 0 {
                return Err(truncated(&name));
            }
            hasher.update(&buf[..n]);
            if small {
                keep.extend_from_slice(&buf[..n]);
            }
            left -= n as u64;
        }
        pos += len;
        if name == MANIFEST_PART {
            break serde_json::from_slice(&keep)
                .map_err(|e| anyhow::anyhow!("备份清单无法解析 / bad manifest: {e}"))?;
        }
        seen.push((PartInfo { name: name.clone(), bytes: len, sha256: hex::encode(hasher.finalize()) }, offset));
        if small {
            files.push((name, keep));
        }
    };
    if manifest.format != FORMAT {
        bail!("备份格式 {} 不受支持（本程序读取 {FORMAT}）/ unsupported backup format", manifest.format);
    }
    if pos != total {
        bail!("{} 清单之后还有数据 / data after the manifest", path.display());
    }
    let listed: Vec<&PartInfo> = manifest.parts.iter().collect();
    if listed.len() != seen.len() {
        bail!("备份的部分数与清单不符 / the parts do not match the manifest");
    }
    for (want, (got, _)) in listed.iter().zip(&seen) {
        if want.name != got.name || want.bytes != got.bytes {
            bail!("备份部分 {} 与清单不符 / part does not match the manifest", got.name);
        }
        if want.sha256 != got.sha256 {
            bail!("备份部分 {} 的 SHA-256 校验失败，文件已损坏 / hash mismatch: the backup is corrupted", got.name);
        }
    }
    let (store_offset, store_len) = seen
        .iter()
        .find(|(p, _)| p.name == STORE_PART)
        .map(|(p, off)| (*off, p.bytes))
        .context("备份中没有数据库部分 / no store part")?;
    Ok(CheckedArchive { manifest, files, path: path.to_path_buf(), store_offset, store_len })
}

impl CheckedArchive {
    /// A data directory file of the archive (`node.key`, `tls/cert.pem`…).
    pub fn file(&self, name: &str) -> Option<&[u8]> {
        let full = format!("{FILE_PREFIX}{name}");
        self.files.iter().find(|(n, _)| *n == full).map(|(_, b)| b.as_slice())
    }

    /// The store's records, decompressed and parsed as they are read.
    pub fn records(&self) -> anyhow::Result<impl Iterator<Item = Result<BackupRecord, StoreError>> + Send + use<>> {
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(self.store_offset))?;
        let gz = flate2::read::GzDecoder::new(file.take(self.store_len));
        let lines = BufReader::new(gz).lines();
        Ok(lines.enumerate().map(|(i, line)| {
            let line =
                line.map_err(|e| StoreError::Corrupt(format!("备份数据第 {} 行 / backup line {}: {e}", i + 1, i + 1)))?;
            serde_json::from_str(&line)
                .map_err(|e| StoreError::Corrupt(format!("备份数据第 {} 行 / backup line {}: {e}", i + 1, i + 1)))
        }))
    }
}
