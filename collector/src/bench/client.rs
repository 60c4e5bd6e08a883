//! [`Conn`]: a minimal keep-alive HTTP/1.1 client over one connection (TCP, or any
//! stream such as a TLS one via [`Conn::over`]), enough for load, crash and TLS tests
//! without pulling in a client library.

use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A reply from the minimal client.
#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal keep-alive HTTP/1.1 client (one connection).
pub struct Conn<S = tokio::net::TcpStream> {
    s: S,
    buf: Vec<u8>,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Conn::over(s))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    /// A client over an established stream (e.g. after a TLS handshake).
    pub fn over(s: S) -> Self {
        Conn { s, buf: Vec::new() }
    }

    /// Sends one request and reads the whole reply.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpReply> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: collector\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        self.s.write_all(head.as_bytes()).await?;
        self.s.write_all(body).await?;
        self.read_reply().await
    }

    /// Appends what the server sent next to the buffer; EOF is an error.
    async fn read_more(&mut self) -> std::io::Result<()> {
        let mut tmp = [0u8; 8192];
        let n = self.s.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(())
    }

    async fn read_reply(&mut self) -> std::io::Result<HttpReply> {
        let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
        let head_end = loop {
            if let Some(p) = memchr::memmem::find(&self.buf, b"\r\n\r\n") {
                break p;
            }
            self.read_more().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| bad("bad status line"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .ok_or_else(|| bad("no content-length"))?;
        let total = head_end + 4 + len;
        while self.buf.len() < total {
            self.read_more().await?;
        }
        let body = self.buf[head_end + 4..total].to_vec();
        self.buf.drain(..total);
        Ok(HttpReply {
            status,
            headers,
            body,
        })
    }
}
