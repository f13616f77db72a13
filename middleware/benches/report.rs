//! `cargo bench -p middleware`: parse + render time of a 10,000-event session report, and
//! ingest throughput (outbound events per second through the router into SQLite).
//!
//! Plain `std::time::Instant` measurements (no harness), printed as one line each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use middleware::beyondtrust::model::parse_session_list;
use middleware::render::{session_view, Renderer, Template};
use tower::ServiceExt;

const EVENTS: usize = 10_000;

/// A SupportSession report with `n` events: chat (some base64), notes, files, system info and
/// special actions, in the shape the appliance sends.
fn big_report(n: usize) -> String {
    use base64::Engine;
    let mut x = String::with_capacity(n * 400);
    x.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><session_list xmlns="http://www.beyondtrust.com/namespaces/API/reporting"><session lsid="c69a8e10bea9428f816cfababe9815fe">"#);
    x.push_str(r#"<session_type>support</session_type><lseq>1</lseq><start_time timestamp="1700000000">2023-11-14T22:13:20+00:00</start_time><end_time timestamp="1700036000">2023-11-15T08:13:20+00:00</end_time><duration>10:00:00</duration><public_site id="1">Default</public_site><external_key>12345</external_key>"#);
    x.push_str(r#"<customer_list><customer gsnumber="2"><username>jc</username><public_ip>203.0.113.10</public_ip><private_ip>10.0.0.5</private_ip><hostname>JANE-PC</hostname><os>Windows 11</os><primary_cust>1</primary_cust><info><name>Jane</name><company>Example</company><issue>Printer</issue><details>Broken</details></info></customer></customer_list>"#);
    x.push_str(r#"<rep_list><representative gsnumber="1" id="7"><username>jrep</username><display_name>John Rep</display_name><session_owner>1</session_owner><seconds_involved>36000</seconds_involved></representative></rep_list><session_details>"#);
    for i in 0..n {
        let ts = 1_700_000_000 + i;
        match i % 10 {
            0..=5 => x.push_str(&format!(
                r#"<event timestamp="{ts}" event_type="Chat Message"><performed_by type="customer" gsnumber="2">Jane</performed_by><destination type="representative" gsnumber="1">John Rep</destination><body>Message number {i} with &lt;markup&gt; &amp; text that needs escaping</body></event>"#
            )),
            6 => x.push_str(&format!(
                r#"<event timestamp="{ts}" event_type="Chat Message"><performed_by type="representative" gsnumber="1">John Rep</performed_by><encoded_body>{}</encoded_body></event>"#,
                base64::engine::general_purpose::STANDARD.encode(format!("encoded reply {i} ✓"))
            )),
            7 => x.push_str(&format!(
                r#"<event timestamp="{ts}" event_type="File Upload"><performed_by type="representative" gsnumber="1">John Rep</performed_by><destination type="customer" gsnumber="2">Jane</destination><filename>C:\tmp\file{i}.zip</filename><filesize>{}</filesize></event>"#,
                i * 1000
            )),
            8 => x.push_str(&format!(
                r#"<event timestamp="{ts}" event_type="Session Note Added"><performed_by type="representative" gsnumber="1">John Rep</performed_by><body>Note {i}</body></event>"#
            )),
            _ => x.push_str(&format!(
                r#"<event timestamp="{ts}" event_type="Conference Member Added"><destination type="representative" gsnumber="1">John Rep</destination><data><value name="role" value="member"/></data></event>"#
            )),
        }
    }
    x.push_str(r#"<event timestamp="1700036000" event_type="System Information Retrieved"><system_information><category name="Overview"><description><field name="OS">Operating System</field><field name="Memory">Memory</field></description><data><row><field name="OS">Windows 11</field><field name="Memory">16 GB</field></row></data></category></system_information></event>"#);
    x.push_str("</session_details></session></session_list>");
    x
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn bench_parse_render() {
    let xml = big_report(EVENTS);
    let renderer = Renderer::builtin();
    let runs = 7;
    let (mut parse, mut view, mut render) = (Vec::new(), Vec::new(), Vec::new());
    let mut html_len = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let sessions = parse_session_list(&xml).expect("parse");
        parse.push(t.elapsed());
        assert_eq!(sessions[0].events.len(), EVENTS + 1);
        let t = Instant::now();
        let v = session_view(&sessions[0], "default");
        view.push(t.elapsed());
        let t = Instant::now();
        let html = renderer.render(Template::Session, &v).expect("render");
        render.push(t.elapsed());
        html_len = html.len();
    }
    let (p, v, r) = (median(parse), median(view), median(render));
    println!(
        "report: {EVENTS} events, {:.1} MiB XML -> {:.1} MiB HTML; parse {:.1} ms, view {:.1} ms, render {:.1} ms, total {:.1} ms (median of {runs})",
        xml.len() as f64 / 1048576.0,
        html_len as f64 / 1048576.0,
        p.as_secs_f64() * 1e3,
        v.as_secs_f64() * 1e3,
        r.as_secs_f64() * 1e3,
        (p + v + r).as_secs_f64() * 1e3
    );
}

async fn ingest_shared() -> (Arc<middleware::Shared>, String) {
    let url = middleware::testing::temp_database_url("bench");
    let text = format!(
        r#"[server]
database_url = "{}"
[[configuration]]
name = "Bench"
appliance_id = "default"
[configuration.beyondtrust]
host = "127.0.0.1:9"
client_id = "id"
client_secret = "secret"
[configuration.zendesk]
url = "http://127.0.0.1:9"
username = "a@b.c"
token = "t"
"#,
        url
    );
    let config = middleware::config::parse(&text, "bench.toml", &|_| None).expect("config");
    let (tx, rx) = tokio::sync::watch::channel(false);
    std::mem::forget(tx);
    let shared = middleware::Shared::build(config, middleware::testing::fast_tuning(), rx)
        .await
        .expect("shared");
    (shared, url)
}

async fn post(router: &axum::Router, i: usize) {
    let body = format!(
        "event=support_conference_end&version=1.0&timestamp={}&appliance_id=x&lsid={i:032x}&external_key={}",
        1_700_000_000 + i,
        i + 1
    );
    let req = Request::post("/ERSPost")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    let resp = router.clone().oneshot(req).await.expect("response");
    assert!(resp.status().is_success());
}

async fn bench_ingest() {
    const N: usize = 5_000;
    // Sequential: the appliance delivers one event at a time and waits for each 200.
    let (shared, url) = ingest_shared().await;
    let router = middleware::ingest::router(shared.clone());
    let t = Instant::now();
    for i in 0..N {
        post(&router, i).await;
    }
    let seq = t.elapsed();
    assert_eq!(shared.store.events().await.expect("events").len(), N);
    println!(
        "ingest: {N} events sequentially in {:.2} s = {:.0} events/s ({:.2} ms per event, SQLite WAL)",
        seq.as_secs_f64(),
        N as f64 / seq.as_secs_f64(),
        seq.as_secs_f64() * 1e3 / N as f64
    );
    shared.store.close().await;
    middleware::testing::remove_sqlite_files(&url);
    // Concurrent: several appliances posting at once.
    let (shared, url) = ingest_shared().await;
    let router = middleware::ingest::router(shared.clone());
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..8 {
        let router = router.clone();
        tasks.spawn(async move {
            for i in (w..N).step_by(8) {
                post(&router, i).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let conc = t.elapsed();
    assert_eq!(shared.store.events().await.expect("events").len(), N);
    shared.store.close().await;
    middleware::testing::remove_sqlite_files(&url);
    println!(
        "ingest: {N} events from 8 concurrent senders in {:.2} s = {:.0} events/s",
        conc.as_secs_f64(),
        N as f64 / conc.as_secs_f64()
    );
}

fn main() {
    // `cargo test --benches` runs this with --bench absent; keep it quick either way.
    bench_parse_render();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench_ingest());
}
