//! The practice register: each practice's latest case and whether it is open, compliant or closed,
//! kept in the transaction of the event that changes it.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::CommandError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisteredState {
    Open,
    Compliant,
    Closed,
}

impl RegisteredState {
    fn as_str(self) -> &'static str {
        match self {
            RegisteredState::Open => "open",
            RegisteredState::Compliant => "compliant",
            RegisteredState::Closed => "closed",
        }
    }

    fn parse(state: &str) -> Self {
        match state {
            "open" => RegisteredState::Open,
            "compliant" => RegisteredState::Compliant,
            _ => RegisteredState::Closed,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeCase {
    pub ods_code: String,
    pub case_id: Uuid,
    pub state: RegisteredState,
}

/// The latest case of each of `ods_codes` that has one.
pub async fn latest_cases(conn: &mut PgConnection, ods_codes: &[String]) -> Result<Vec<PracticeCase>, CommandError> {
    let rows = sqlx::query!(
        "select ods_code, case_id, state from practice_cases where ods_code = any($1)",
        ods_codes
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PracticeCase {
            ods_code: r.ods_code,
            case_id: r.case_id,
            state: RegisteredState::parse(&r.state),
        })
        .collect())
}

/// Makes `case_id` the practice's open case, unless another case of the practice is open.
pub(crate) async fn claim_open(conn: &mut PgConnection, ods_code: &str, case_id: Uuid) -> Result<(), CommandError> {
    let claimed = sqlx::query!(
        "insert into practice_cases (ods_code, case_id, state) values ($1, $2, 'open')
         on conflict (ods_code) do update set case_id = excluded.case_id, state = 'open', updated_at = now()
          where practice_cases.state <> 'open'",
        ods_code,
        case_id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if claimed == 1 {
        return Ok(());
    }
    let open = latest_cases(conn, &[ods_code.to_string()]).await?;
    let case_id = open.first().map_or(case_id, |c| c.case_id);
    Err(CommandError::PracticeHasOpenCase {
        ods_code: ods_code.to_string(),
        case_id,
    })
}

/// Reopens `case_id`, which must be the practice's latest case.
pub(crate) async fn reopen(conn: &mut PgConnection, ods_code: &str, case_id: Uuid) -> Result<(), CommandError> {
    let reopened = sqlx::query!(
        "update practice_cases set state = 'open', updated_at = now()
          where ods_code = $1 and case_id = $2 and state <> 'open'",
        ods_code,
        case_id
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if reopened == 1 {
        Ok(())
    } else {
        Err(CommandError::NotLatestCase {
            ods_code: ods_code.to_string(),
            case_id,
        })
    }
}

/// Records that `case_id` has become compliant or closed.
pub(crate) async fn settle(
    conn: &mut PgConnection,
    ods_code: &str,
    case_id: Uuid,
    state: RegisteredState,
) -> Result<(), CommandError> {
    sqlx::query!(
        "update practice_cases set state = $3, updated_at = now() where ods_code = $1 and case_id = $2",
        ods_code,
        case_id,
        state.as_str()
    )
    .execute(conn)
    .await?;
    Ok(())
}
