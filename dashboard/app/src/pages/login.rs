//! Login: user and password → `POST /api/login`; the session cookie is HttpOnly, the
//! CSRF token comes back in the body and is kept in memory only.

use crate::api::{self, Session};
use leptos::prelude::*;

#[component]
pub fn Login() -> impl IntoView {
    let session = expect_context::<Session>();
    let user = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (u, p) = (user.get_untracked(), password.get_untracked());
        leptos::task::spawn_local(async move {
            match api::login(&u, &p).await {
                Ok(me) => session.me.set(Some(me)),
                Err(e) => error.set(e.to_string()),
            }
        });
    };
    view! {
        <div class="login">
            <h1>"war-room"</h1>
            <form on:submit=submit>
                <label>"User" <input id="login-user" autocomplete="username" bind:value=user /></label>
                <label>"Password" <input id="login-password" type="password" autocomplete="current-password" bind:value=password /></label>
                <button id="login-submit" type="submit">"Log in"</button>
                <p id="login-error" class="error">{move || error.get()}</p>
            </form>
        </div>
    }
}
