//! TLS on the collector's edge (rustls, ring provider): the certificate chain and key
//! read from PEM files at startup — an error names the file — and a [`TlsListener`] that
//! completes handshakes off the accept loop (each within [`HANDSHAKE_TIMEOUT`], so a
//! slow or silent client holds no one else up) and hands axum finished TLS streams.

use crate::error::EdgeError;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client gets this long to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads `cert` (PEM chain, leaf first) and `key` (PEM PKCS#8, PKCS#1 or SEC1) into a
/// server config speaking HTTP/1.1.
pub(crate) fn load(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, EdgeError> {
    let file_err = |what: &'static str, path: &Path, reason: String| EdgeError::TlsFile {
        what,
        path: path.display().to_string(),
        reason,
    };
    // Read first, so a missing file says so plainly.
    let cert_pem = std::fs::read(cert).map_err(|e| file_err("certificate", cert, e.to_string()))?;
    let key_pem = std::fs::read(key).map_err(|e| file_err("key", key, e.to_string()))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err("certificate", cert, format!("bad PEM: {e}")))?;
    if chain.is_empty() {
        return Err(file_err(
            "certificate",
            cert,
            "no CERTIFICATE section in the PEM file".into(),
        ));
    }
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        file_err(
            "key",
            key,
            format!("no usable private key (PKCS#8, PKCS#1 or SEC1 PEM): {e}"),
        )
    })?;
    let provider = Arc::new(ring_provider());
    let pair_err = |reason: String| EdgeError::TlsConfig {
        cert: cert.display().to_string(),
        key: key.display().to_string(),
        reason,
    };
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| pair_err(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| pair_err(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// rustls over *ring*. rustls 0.23.48 marks it deprecated for lacking post-quantum key
/// exchange; the alternative (aws-lc-rs) needs cmake and a C toolchain build of its own,
/// which this project keeps out of its dev builds. X25519 and the NIST curves remain.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Accepts TCP connections and serves axum the ones whose TLS handshake succeeded.
pub(crate) struct TlsListener {
    done: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    accept_loop: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Starts the accept loop; failed handshakes are counted in `failed`.
    pub(crate) fn new(
        tcp: TcpListener,
        config: Arc<rustls::ServerConfig>,
        failed: Arc<AtomicU64>,
    ) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(config);
        let (tx, done) = tokio::sync::mpsc::channel(64);
        let accept_loop = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(x) => x,
                    Err(_) => {
                        // Out of file descriptors and the like: back off a little.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, tx, failed) = (acceptor.clone(), tx.clone(), failed.clone());
                tokio::spawn(async move {
                    let handshake = acceptor.accept(stream).into_fallible();
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        // Counted before the connection is closed.
                        Ok(Err((_, tcp))) => {
                            failed.fetch_add(1, Relaxed);
                            drop(tcp);
                        }
                        Err(_) => {
                            failed.fetch_add(1, Relaxed);
                        }
                    }
                });
            }
        });
        Ok(Self {
            done,
            local,
            accept_loop,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.done.recv().await {
            Some(x) => x,
            // The accept loop never ends on its own; it is aborted only on drop.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
