//! The HTTP run mode: each service on its own loopback listener (`server`),
//! calls between them as real HTTP requests (`client`). Handlers and digests
//! are the same as in process. The call path (`world`) uses the client; the
//! server calls into the call path — one way each.

mod client;
mod server;

pub(crate) use client::HttpTransport;
pub(crate) use server::bind_all;
