//! `practice_view`: every observed practice with its latest dashboard observation.

use std::collections::HashMap;

use caseledger_cases::case::{CaseEvent, decode_event};
use caseledger_cases::practice::SlotsObserved;
use caseledger_eventstore::{EventHandler, HandlerError, RecordedEvent};
use serde::Serialize;
use sqlx::PgConnection;

pub const NAME: &str = "practice_view";

#[derive(Debug, Default)]
pub struct PracticeViewProjection;

#[derive(Debug, Serialize)]
struct PracticeRow {
    ods_code: String,
    name: String,
    pcn_code: String,
    pcn_name: Option<String>,
    place: String,
    list_size: u32,
    required_slots: u32,
    report_date: chrono::NaiveDate,
    visible_slots: u32,
    compliant: bool,
}

impl EventHandler for PracticeViewProjection {
    async fn handle(&self, tx: &mut PgConnection, event: &RecordedEvent) -> Result<(), HandlerError> {
        self.handle_batch(tx, std::slice::from_ref(event)).await
    }

    async fn handle_batch(&self, tx: &mut PgConnection, events: &[RecordedEvent]) -> Result<(), HandlerError> {
        let mut latest: HashMap<String, SlotsObserved> = HashMap::new();
        for event in events.iter().filter(|e| e.event_type == SlotsObserved::EVENT_TYPE) {
            let CaseEvent::SlotsObserved(observed) = decode_event(&event.event_type, event.data.get())? else {
                continue;
            };
            let ods_code = observed.practice.ods_code.to_string();
            if latest
                .get(&ods_code)
                .is_none_or(|seen| seen.report_date <= observed.report_date)
            {
                latest.insert(ods_code, observed);
            }
        }
        if latest.is_empty() {
            return Ok(());
        }
        let rows: Vec<PracticeRow> = latest
            .into_values()
            .map(|o| PracticeRow {
                compliant: o.compliant(),
                ods_code: o.practice.ods_code.to_string(),
                name: o.practice.name.to_string(),
                pcn_code: o.practice.pcn_code.to_string(),
                pcn_name: o.practice.pcn_name.as_ref().map(ToString::to_string),
                place: o.practice.place.to_string(),
                list_size: o.list_size.get(),
                required_slots: o.required_slots,
                report_date: o.report_date,
                visible_slots: o.visible_slots.get(),
            })
            .collect();
        sqlx::query!(
            r#"insert into practice_view
               select * from jsonb_to_recordset($1) as r(
                   ods_code text, name text, pcn_code text, pcn_name text, place text, list_size integer,
                   required_slots integer, report_date date, visible_slots integer, compliant boolean)
               on conflict (ods_code) do update set
                   name = excluded.name, pcn_code = excluded.pcn_code, pcn_name = excluded.pcn_name,
                   place = excluded.place, list_size = excluded.list_size, required_slots = excluded.required_slots,
                   report_date = excluded.report_date, visible_slots = excluded.visible_slots,
                   compliant = excluded.compliant
               where excluded.report_date >= practice_view.report_date"#,
            serde_json::to_value(rows)?
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
