//! The benchmarks' ceiling: a bare axum "hello world" built with the same
//! toolchain, profile and runtime as Chamado, started by `bench/run.sh`. Every
//! scenario's throughput is also reported as a ratio to this one's.
//!
//! `cargo run --release --example bench_hello -- 127.0.0.1:8099`

use axum::{Router, routing::get};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".to_owned());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(&addr).await?;
            let app = Router::new().route("/", get(|| async { "Olá, mundo!" }));
            axum::serve(listener, app).await
        })
}
