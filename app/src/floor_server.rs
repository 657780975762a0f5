//! `boxoffice floor-server`: the bench's floor, a minimal actix-web handler doing one SQLite
//! insert per request on `<data-dir>/floor.db`, until killed. It lives here because only the app
//! knows actix-web; the bench drives it and measures it.

use actix_web::{App, HttpResponse, HttpServer, web};
use bench::Floor;
use serde_json::json;

use crate::settings::Settings;

async fn insert(floor: web::Data<Floor>, body: web::Bytes) -> HttpResponse {
    let Ok(text) = std::str::from_utf8(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    match floor.insert(text).await {
        Ok(id) => HttpResponse::Accepted().json(json!({ "id": id })),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

/// Serves `POST /floor` on a free port of 127.0.0.1, printing the address once listening.
pub(crate) async fn serve(settings: Settings, workers: usize) -> anyhow::Result<()> {
    let floor = Floor::open(&settings.database.db_settings()).await?;
    let data = web::Data::new(floor);
    let workers = match workers {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/floor", web::post().to(insert))
    })
    .workers(workers)
    .bind("127.0.0.1:0")?;
    let address = server.addrs()[0];
    println!("floor serving http://{address}");
    server.run().await?;
    Ok(())
}
