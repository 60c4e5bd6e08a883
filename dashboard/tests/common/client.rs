//! The API tests' HTTP client: log in, then GET and POST as that session.
#![allow(dead_code)]

use super::{Running, PASSWORD};
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A logged-in session: its cookie and CSRF token.
pub struct Login {
    pub cookie: String,
    pub csrf: String,
}

/// Logs `user` in (password [`PASSWORD`]); checks the cookie's flags.
pub async fn login(r: &Running, user: &str) -> Login {
    let resp = reqwest::Client::new()
        .post(r.url("/api/login"))
        .json(&json!({"user": user, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let set = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"], user);
    Login {
        cookie,
        csrf: body["csrf"].as_str().unwrap().to_string(),
    }
}

/// A POST with the session, its CSRF token and the own Origin: status and JSON body.
pub async fn post(r: &Running, l: &Login, path: &str, body: Value) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(r.url(path))
        .header(COOKIE, &l.cookie)
        .header("x-csrf-token", &l.csrf)
        .header(ORIGIN, format!("http://{}", r.addr))
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

/// A GET with the session: status and JSON body (`null` when not JSON).
pub async fn get(r: &Running, l: &Login, path: &str) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .get(r.url(path))
        .header(COOKIE, &l.cookie)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}
