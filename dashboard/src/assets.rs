//! The static bundle: files under `dist/` with their content types (`.wasm` as
//! `application/wasm`), `index.html` for the app's own routes, and a plain page that
//! says how to build the bundle when it is missing. Nothing is loaded from elsewhere.

use crate::server::Dashboard;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

pub struct Assets {
    dir: PathBuf,
}

const NOT_BUILT: &str = "<!doctype html><html><head><meta charset=utf-8><title>war-room</title></head>\
<body style=\"font:20px sans-serif;margin:3em\"><h1>The dashboard bundle is not built</h1>\
<p>Run <code>scripts/build-dashboard</code> (or start with <code>scripts/up</code>, which builds it), \
then reload. The JSON API under <code>/api/</code> works without it.</p></body></html>";

impl Assets {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn present(&self) -> bool {
        self.dir.join("index.html").is_file()
    }

    /// Maps a URL path to a file under the bundle; `None` for anything that climbs out.
    fn resolve(&self, url_path: &str) -> Option<PathBuf> {
        let rel = url_path.trim_start_matches('/');
        let mut p = self.dir.clone();
        for c in Path::new(rel).components() {
            match c {
                Component::Normal(s) => p.push(s),
                _ => return None,
            }
        }
        Some(p)
    }
}

pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// The fallback handler: a bundle file, else `index.html` for extension-less paths.
pub async fn serve(State(d): State<Arc<Dashboard>>, uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/") {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(screen::ErrorBody {
                error: "no such API route".into(),
            }),
        )
            .into_response();
    }
    let assets = &d.assets;
    if !assets.present() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            NOT_BUILT,
        )
            .into_response();
    }
    let Some(mut file) = assets.resolve(path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let is_route = Path::new(path).extension().is_none();
    if file.is_dir() || (is_route && !file.is_file()) {
        file = assets.dir.join("index.html");
    }
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            // File names are not content-hashed: always revalidate, so a rebuilt
            // bundle is picked up on the next reload (the files are small, served locally).
            let cache = "no-cache";
            (
                [
                    (header::CONTENT_TYPE, content_type(&file)),
                    (header::CACHE_CONTROL, cache),
                ],
                bytes,
            )
                .into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
