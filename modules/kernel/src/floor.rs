//! The physical floor `boxoffice bench` compares against: one-row SQLite transactions on a file
//! opened exactly like a module database (same connection options, same single writer, same
//! `BEGIN IMMEDIATE`), with no outbox, no bus and no domain.
//!
//! It lives in its own `floor.db`, which no module owns and nothing but the bench opens.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use sqlx::SqlitePool;

use crate::{
    Error,
    db::{DbSettings, connect_options, open_writer},
};

/// The floor's file name inside the folder it is given.
pub const FLOOR_FILE: &str = "floor.db";

/// A scratch database for measuring raw commit throughput.
#[derive(Clone, Debug)]
pub struct Floor {
    writer: SqlitePool,
    path: PathBuf,
}

impl Floor {
    /// Creates `<settings.data_dir>/floor.db` with one table, opened with the module pragmas.
    pub async fn open(settings: &DbSettings) -> Result<Floor, Error> {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| Error::DataDir {
            path: settings.data_dir.clone(),
            source,
        })?;
        let path = settings.data_dir.join(FLOOR_FILE);
        let writer = open_writer(&connect_options(&path, settings), settings)
            .await
            .map_err(Error::db("floor"))?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS floor_rows (
                 id INTEGER PRIMARY KEY,
                 created_at INTEGER NOT NULL,
                 body TEXT NOT NULL
             )",
        )
        .execute(&writer)
        .await
        .map_err(Error::db("floor"))?;
        Ok(Floor { writer, path })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One transaction (`BEGIN IMMEDIATE`, one `INSERT`, `COMMIT`); returns the row id.
    pub async fn insert(&self, body: &str) -> Result<i64, Error> {
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Error::db("floor"))?;
        let id = sqlx::query_scalar(
            "INSERT INTO floor_rows (created_at, body) VALUES (?, ?) RETURNING id",
        )
        .bind(crate::Timestamp::now())
        .bind(body)
        .fetch_one(&mut *tx)
        .await
        .map_err(Error::db("floor"))?;
        tx.commit().await.map_err(Error::db("floor"))?;
        Ok(id)
    }

    /// Commits one-row transactions back to back for `duration`; returns how many.
    pub async fn commit_loop(&self, duration: Duration) -> Result<u64, Error> {
        let body = r#"{"show_id":"00000000-0000-0000-0000-000000000000","seats":2}"#;
        let started = Instant::now();
        let mut commits = 0;
        while started.elapsed() < duration {
            self.insert(body).await?;
            commits += 1;
        }
        Ok(commits)
    }

    /// Closes the connection.
    pub async fn close(&self) {
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rows_are_committed_to_the_floor_file() {
        let dir = tempfile::tempdir().unwrap();
        let floor = Floor::open(&DbSettings::new(dir.path())).await.unwrap();
        let first = floor.insert("a").await.unwrap();
        let second = floor.insert("b").await.unwrap();
        assert_eq!(second, first + 1);
        assert!(floor.commit_loop(Duration::from_millis(20)).await.unwrap() > 0);
        floor.close().await;
        assert!(dir.path().join(FLOOR_FILE).is_file());
    }
}
