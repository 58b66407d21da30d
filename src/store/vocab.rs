//! How the model's closed vocabularies (item status, assignment state) are
//! stored: as their snake_case text, and read back strictly — a value the
//! vocabulary does not know is an error naming it, never a guess.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

use crate::model::{AssignmentState, ItemStatus};

macro_rules! stored_as_text {
    ($($name:ident),+) => {$(
        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                $name::parse(text).ok_or_else(|| {
                    FromSqlError::Other(
                        format!("'{text}' is not a known {}", stringify!($name)).into(),
                    )
                })
            }
        }
    )+};
}

stored_as_text!(ItemStatus, AssignmentState);

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn read<T: FromSql>(conn: &Connection, text: &str) -> rusqlite::Result<T> {
        conn.query_row("SELECT ?1", [text], |r| r.get(0))
    }

    #[test]
    fn every_value_round_trips_and_an_unknown_one_is_named() {
        crate::store::sqlcipher_ready().unwrap();
        let conn = Connection::open_in_memory().unwrap();
        for &s in ItemStatus::ALL {
            let back: ItemStatus = conn.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, s);
        }
        for &s in AssignmentState::ALL {
            assert_eq!(read::<AssignmentState>(&conn, s.as_str()).unwrap(), s);
        }
        // `assigned` is an assignment state, never an item status.
        let err = read::<ItemStatus>(&conn, "assigned")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'assigned' is not a known ItemStatus"),
            "{err}"
        );
    }
}
