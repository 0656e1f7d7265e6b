//! The files NHS England publishes about GP practices, read as they are published:
//!
//! - ODS's `epraccur.csv` ("GP practices"): no header row, 27 columns, dates `YYYYMMDD`
//!   ([`parse_epraccur`]);
//! - "Patients Registered at a GP Practice", `gp-reg-pat-prac-all.csv`: a header row, the
//!   commissioner's column named `SUB_ICB_LOCATION_CODE` (`CCG_CODE` before July 2022), the
//!   extract date as `2026-04-01` or `01JAN2021` ([`parse_list_sizes`]);
//! - ODS's ePCN release: the PCNs and their member practices ([`parse_pcn_members`]).
//!
//! Each is checked whole, as every import is (every error with its line and column, nothing if
//! any); rows about other ICBs, or other kinds of organisation, are counted and passed over,
//! never an error: a national file loads as it is.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;

use crate::extract::{ImportError, Sheet, checked, whole_number};
use crate::practice::{OdsDetails, OdsStatus};
use crate::values::{OdsCode, PcnCode, ShortText};

/// `epraccur.csv`'s columns, in order (ODS's own field names, shortened).
const EPRACCUR_COLUMNS: [&str; 27] = [
    "organisation_code",
    "name",
    "national_grouping",
    "high_level_health_geography",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "address_line_4",
    "address_line_5",
    "postcode",
    "open_date",
    "close_date",
    "status_code",
    "organisation_sub_type_code",
    "commissioner",
    "join_provider_date",
    "left_provider_date",
    "contact_telephone_number",
    "null_19",
    "null_20",
    "null_21",
    "amended_record_indicator",
    "null_23",
    "provider_purchaser",
    "null_25",
    "prescribing_setting",
    "null_27",
];

/// Whether `epraccur.csv`'s prescribing setting is a GP practice's: `4` in the files NHS Digital
/// published, the ODS role `RO76` (alone or among others, `RO76|RO268`) in those of ODS Data
/// Search and Export. Others are out of hours services, walk-in centres, prisons and the like.
pub fn is_gp_practice(setting: &str) -> bool {
    setting == "4" || setting.split('|').any(|role| role.trim().eq_ignore_ascii_case("RO76"))
}

/// Which commissioners are this deployment's ICB: its sub-ICB location codes (C&W has one,
/// others several), upper-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubIcbCodes(HashSet<String>);

impl SubIcbCodes {
    /// From a comma-separated list (`CASELEDGER_SUB_ICB_CODES`); blanks ignored.
    pub fn parse(list: &str) -> Result<Self, String> {
        let codes: HashSet<String> = list
            .split(',')
            .map(|code| code.trim().to_ascii_uppercase())
            .filter(|code| !code.is_empty())
            .collect();
        if let Some(bad) = codes
            .iter()
            .find(|code| code.len() > 5 || !code.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(format!("{bad:?} is not a sub-ICB location code (e.g. 05A, B2M3M)"));
        }
        Ok(Self(codes))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, code: &str) -> bool {
        self.0.contains(&code.trim().to_ascii_uppercase())
    }

    pub fn codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self.0.iter().map(String::as_str).collect();
        codes.sort_unstable();
        codes
    }
}

/// One GP practice of this ICB as `epraccur.csv` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdsPractice {
    pub line: u64,
    pub ods_code: OdsCode,
    pub name: ShortText,
    pub details: OdsDetails,
}

/// What an `epraccur.csv` held: this ICB's practices, and how many rows it passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OdsPractices {
    pub practices: Vec<OdsPractice>,
    /// Rows of organisations under other commissioners.
    pub other_icbs: usize,
    /// Rows of this ICB that are not GP practices (prescribing setting other than 4).
    pub not_gp_practices: usize,
}

/// A `YYYYMMDD` date, or none for a blank.
fn ods_date(value: &str) -> Result<Option<NaiveDate>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(value, "%Y%m%d")
        .map(Some)
        .map_err(|_| format!("{value:?} is not a date (YYYYMMDD)"))
}

/// Parses ODS's `epraccur.csv` for the practices of the ICB whose sub-ICB locations are `icb`.
pub fn parse_epraccur(csv: &str, icb: &SubIcbCodes, max_rows: usize) -> Result<OdsPractices, Vec<ImportError>> {
    let sheet = Sheet::read_without_header(csv, &EPRACCUR_COLUMNS, max_rows)?;
    let mut errors = sheet.unreadable.clone();
    let mut file = OdsPractices::default();
    let mut seen: HashMap<OdsCode, u64> = HashMap::new();
    for record in sheet.records() {
        let line = record.line;
        if !icb.contains(record.field("commissioner")) {
            file.other_icbs += 1;
            continue;
        }
        if !is_gp_practice(record.field("prescribing_setting")) {
            file.not_gp_practices += 1;
            continue;
        }
        let mut row_errors = Vec::new();
        let ods_code = checked(
            &mut row_errors,
            line,
            "organisation_code",
            OdsCode::parse(record.field("organisation_code")).map_err(|e| e.to_string()),
        );
        let name = checked(
            &mut row_errors,
            line,
            "name",
            ShortText::parse(record.field("name")).map_err(|e| e.to_string()),
        );
        let opened = checked(&mut row_errors, line, "open_date", ods_date(record.field("open_date")));
        let closed = checked(
            &mut row_errors,
            line,
            "close_date",
            ods_date(record.field("close_date")),
        );
        let status = checked(
            &mut row_errors,
            line,
            "status_code",
            OdsStatus::from_code(record.field("status_code")).ok_or_else(|| {
                format!(
                    "{:?} is not an ODS status (A or ACTIVE, C or INACTIVE, D or DORMANT, P or PROPOSED)",
                    record.field("status_code")
                )
            }),
        );
        let commissioner = ShortText::lossy(record.field("commissioner"));
        let optional = |column: &str| ShortText::lossy(record.field(column));
        let address: Vec<ShortText> = (1..=5).filter_map(|n| optional(&format!("address_line_{n}"))).collect();
        if let (Some(Some(opened)), Some(Some(closed))) = (opened, closed)
            && closed < opened
        {
            row_errors.push(ImportError::new(
                line,
                Some("close_date"),
                format!("closes on {closed}, before it opens on {opened}"),
            ));
        }
        if let Some(code) = &ods_code
            && let Some(first) = seen.insert(code.clone(), line)
        {
            row_errors.push(ImportError::new(
                line,
                Some("organisation_code"),
                format!("{code} appears again (first on line {first})"),
            ));
        }
        match (ods_code, name, opened, closed, status, commissioner) {
            (Some(ods_code), Some(name), Some(opened), Some(closed), Some(status), Some(commissioner))
                if row_errors.is_empty() =>
            {
                file.practices.push(OdsPractice {
                    line,
                    ods_code,
                    name,
                    details: OdsDetails {
                        address,
                        postcode: optional("postcode"),
                        telephone: optional("contact_telephone_number"),
                        opened,
                        closed,
                        status,
                        commissioner,
                    },
                })
            }
            _ => errors.extend(row_errors),
        }
    }
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() {
        return Err(errors);
    }
    if file.practices.is_empty() {
        return Err(vec![ImportError::new(
            1,
            Some("commissioner"),
            format!(
                "the file has no GP practices (prescribing setting 4) commissioned by {}: is it epraccur.csv, and \
                 are CASELEDGER_SUB_ICB_CODES this ICB's?",
                icb.codes().join(", ")
            ),
        )]);
    }
    Ok(file)
}

/// One practice's list size from "Patients Registered at a GP Practice".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSizeRow {
    pub line: u64,
    pub ods_code: OdsCode,
    pub patients: u32,
}

/// What a `gp-reg-pat-prac-all.csv` held for this ICB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSizes {
    pub extract_date: NaiveDate,
    pub rows: Vec<ListSizeRow>,
    /// Rows of practices under other commissioners.
    pub other_icbs: usize,
    /// Rows that break the list down by sex or age (only `SEX=ALL, AGE=ALL` is the list size).
    pub breakdowns: usize,
}

/// The extract date as NHS England writes it: `2026-04-01` in some months, `01JAN2021` in others.
fn extract_date(value: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(value, "%d%b%Y"))
        .map_err(|_| format!("{value:?} is not an extract date (2026-04-01 or 01APR2026)"))
}

/// Parses "Patients Registered at a GP Practice" (`gp-reg-pat-prac-all.csv`) for the practices
/// of the ICB whose sub-ICB locations are `icb`.
pub fn parse_list_sizes(csv: &str, icb: &SubIcbCodes, max_rows: usize) -> Result<ListSizes, Vec<ImportError>> {
    let sheet = Sheet::read(
        csv,
        &["EXTRACT_DATE", "CODE", "SEX", "AGE", "NUMBER_OF_PATIENTS"],
        max_rows,
    )?;
    let commissioner = ["SUB_ICB_LOCATION_CODE", "CCG_CODE"]
        .into_iter()
        .find(|column| sheet.has_column(column))
        .ok_or_else(|| {
            vec![ImportError::new(
                1,
                Some("SUB_ICB_LOCATION_CODE"),
                "required column is missing (or CCG_CODE, in files before July 2022)",
            )]
        })?;
    let mut errors = sheet.unreadable.clone();
    let mut rows = Vec::new();
    let (mut other_icbs, mut breakdowns) = (0, 0);
    let mut date: Option<(u64, NaiveDate)> = None;
    let mut seen: HashMap<OdsCode, u64> = HashMap::new();
    for record in sheet.records() {
        let line = record.line;
        let mut row_errors = Vec::new();
        match (
            checked(
                &mut row_errors,
                line,
                "EXTRACT_DATE",
                extract_date(record.field("EXTRACT_DATE")),
            ),
            date,
        ) {
            (Some(day), None) => date = Some((line, day)),
            (Some(day), Some((first, first_day))) if day != first_day => row_errors.push(ImportError::new(
                line,
                Some("EXTRACT_DATE"),
                format!("{day} is not the file's extract date ({first_day}, line {first}): one month a file"),
            )),
            _ => {}
        }
        if !icb.contains(record.field(commissioner)) {
            other_icbs += 1;
            errors.extend(row_errors);
            continue;
        }
        if !record.field("SEX").eq_ignore_ascii_case("ALL") || !record.field("AGE").eq_ignore_ascii_case("ALL") {
            breakdowns += 1;
            errors.extend(row_errors);
            continue;
        }
        let ods_code = checked(
            &mut row_errors,
            line,
            "CODE",
            OdsCode::parse(record.field("CODE")).map_err(|e| e.to_string()),
        );
        let patients = checked(
            &mut row_errors,
            line,
            "NUMBER_OF_PATIENTS",
            whole_number(record.field("NUMBER_OF_PATIENTS"))
                .and_then(|n| u32::try_from(n).map_err(|_| format!("{n} is not a number of patients (0 or more)"))),
        );
        if let Some(code) = &ods_code
            && let Some(first) = seen.insert(code.clone(), line)
        {
            row_errors.push(ImportError::new(
                line,
                Some("CODE"),
                format!("{code} has a second SEX=ALL, AGE=ALL row (first on line {first})"),
            ));
        }
        match (ods_code, patients) {
            (Some(ods_code), Some(patients)) if row_errors.is_empty() => rows.push(ListSizeRow {
                line,
                ods_code,
                patients,
            }),
            _ => errors.extend(row_errors),
        }
    }
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() {
        return Err(errors);
    }
    match date {
        Some((_, extract_date)) if !rows.is_empty() => Ok(ListSizes {
            extract_date,
            rows,
            other_icbs,
            breakdowns,
        }),
        _ => Err(vec![ImportError::new(
            2,
            Some(commissioner),
            format!(
                "the file has no list sizes (SEX=ALL, AGE=ALL) of practices commissioned by {}",
                icb.codes().join(", ")
            ),
        )]),
    }
}

/// A practice's membership of a PCN, as ODS's ePCN release gives it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PcnMember {
    #[serde(skip)]
    pub line: u64,
    pub ods_code: OdsCode,
    pub pcn_code: PcnCode,
    pub pcn_name: ShortText,
    /// The relationship's start date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joined: Option<NaiveDate>,
    /// Its end date, when it has ended (or will).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<NaiveDate>,
}

impl PcnMember {
    /// Whether the membership holds on `day`.
    pub fn holds_on(&self, day: NaiveDate) -> bool {
        self.joined.is_none_or(|joined| joined <= day) && self.left.is_none_or(|left| left >= day)
    }
}

/// What an ePCN release held for this ICB's practices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PcnMembers {
    pub members: Vec<PcnMember>,
    /// Rows of practices under other commissioners.
    pub other_icbs: usize,
}

/// A date as the ePCN release's sheets give it once saved as CSV: `YYYYMMDD` (as ODS writes its
/// CSVs), `YYYY-MM-DD`, or `DD/MM/YYYY` (as a UK spreadsheet saves it); blank for none.
fn release_date(value: &str) -> Result<Option<NaiveDate>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    [
        "%Y%m%d",
        "%Y-%m-%d",
        "%d/%m/%Y",
        "%Y-%m-%d %H:%M:%S",
        "%d/%m/%Y %H:%M:%S",
    ]
    .iter()
    .find_map(|format| NaiveDate::parse_from_str(value, format).ok())
    .map(Some)
    .ok_or_else(|| format!("{value:?} is not a date (YYYYMMDD, YYYY-MM-DD or DD/MM/YYYY)"))
}

/// The ePCN release's "PCN Core Partner Details" columns, loosely named (see
/// [`Sheet::read_loose`]); where a column was renamed (CCG to Sub ICB Location in July 2022),
/// every name it has had.
const PARTNER_CODE: [&str; 3] = ["partnerorganisationcode", "practicecode", "organisationcode"];
const PCN_CODE: [&str; 1] = ["pcncode"];
const PCN_NAME: [&str; 1] = ["pcnname"];
const PRACTICE_COMMISSIONER: [&str; 4] = [
    "practiceparentsubicbloccode",
    "practiceparentsubicblocationcode",
    "practiceparentccgcode",
    "partnerparentsubicbloccode",
];
const PCN_COMMISSIONER: [&str; 3] = [
    "pcnparentsubicbloccode",
    "pcnparentsubicblocationcode",
    "pcnparentccgcode",
];
/// The core partner details' eleven columns in order, as the workbook's sheet names them
/// (loosely): ODS Data Search and Export's `epcncorepartnerdetails` CSV has them without a header.
const CORE_PARTNER_COLUMNS: [&str; 11] = [
    "partnerorganisationcode",
    "partnername",
    "practiceparentsubicbloccode",
    "practiceparentsubicblocname",
    "pcncode",
    "pcnname",
    "pcnparentsubicbloccode",
    "pcnparentsubicblocname",
    "practicetopcnrelationshipstartdate",
    "practicetopcnrelationshipenddate",
    "practicesubicblocandpcnsubicblocmatch",
];

/// Whether the release comes without a header (its first row already a practice in a PCN).
fn headerless_partners(csv: &str) -> bool {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let mut first = csv::StringRecord::new();
    matches!(reader.read_record(&mut first), Ok(true))
        && first.len() == CORE_PARTNER_COLUMNS.len()
        && first.get(0).is_some_and(|code| OdsCode::parse(code).is_ok())
        && first.get(4).is_some_and(|code| PcnCode::parse(code).is_ok())
}

const JOINED: [&str; 3] = [
    "practicetopcnrelationshipstartdate",
    "relationshipstartdate",
    "startdate",
];
const LEFT: [&str; 3] = ["practicetopcnrelationshipenddate", "relationshipenddate", "enddate"];

/// Parses the ePCN release's core partner details (the sheet saved as CSV) for the practices of
/// the ICB whose sub-ICB locations are `icb`: each practice's PCN, with the relationship's start
/// and end dates.
pub fn parse_pcn_members(csv: &str, icb: &SubIcbCodes, max_rows: usize) -> Result<PcnMembers, Vec<ImportError>> {
    let sheet = if headerless_partners(csv) {
        Sheet::read_without_header(csv, &CORE_PARTNER_COLUMNS, max_rows)?
    } else {
        Sheet::read_loose(csv, max_rows)?
    };
    let column = |names: &[&'static str], shown: &'static str| {
        sheet
            .first_column(names)
            .ok_or_else(|| ImportError::new(1, Some(shown), "required column is missing"))
    };
    let found = [
        column(&PARTNER_CODE, "Partner Organisation Code"),
        column(&PCN_CODE, "PCN Code"),
        column(&PCN_NAME, "PCN Name"),
        column(&JOINED, "Practice to PCN Relationship Start Date"),
        sheet
            .first_column(&PRACTICE_COMMISSIONER)
            .or_else(|| sheet.first_column(&PCN_COMMISSIONER))
            .ok_or_else(|| {
                ImportError::new(
                    1,
                    Some("Practice Parent Sub ICB Loc Code"),
                    "required column is missing",
                )
            }),
    ];
    let missing: Vec<ImportError> = found.iter().filter_map(|c| c.as_ref().err().cloned()).collect();
    let [Ok(partner), Ok(pcn_code), Ok(pcn_name), Ok(joined), Ok(commissioner)] = found else {
        return Err(missing);
    };
    let left = sheet.first_column(&LEFT);
    let mut errors = sheet.unreadable.clone();
    let mut file = PcnMembers::default();
    let mut seen: HashMap<(OdsCode, PcnCode, Option<NaiveDate>), u64> = HashMap::new();
    for record in sheet.records() {
        let line = record.line;
        if !icb.contains(record.field(commissioner)) {
            file.other_icbs += 1;
            continue;
        }
        let mut row_errors = Vec::new();
        let ods_code = checked(
            &mut row_errors,
            line,
            partner,
            OdsCode::parse(record.field(partner)).map_err(|e| e.to_string()),
        );
        let pcn = checked(
            &mut row_errors,
            line,
            pcn_code,
            PcnCode::parse(record.field(pcn_code)).map_err(|e| e.to_string()),
        );
        let name = checked(
            &mut row_errors,
            line,
            pcn_name,
            ShortText::parse(record.field(pcn_name)).map_err(|e| e.to_string()),
        );
        let start = checked(&mut row_errors, line, joined, release_date(record.field(joined)));
        let end = match left {
            Some(left) => checked(&mut row_errors, line, left, release_date(record.field(left))),
            None => Some(None),
        };
        if let (Some(Some(start)), Some(Some(end))) = (start, end)
            && end < start
        {
            row_errors.push(ImportError::new(
                line,
                left,
                format!("the membership ends on {end}, before it starts on {start}"),
            ));
        }
        if let (Some(code), Some(pcn), Some(start)) = (&ods_code, &pcn, start)
            && let Some(first) = seen.insert((code.clone(), pcn.clone(), start), line)
        {
            row_errors.push(ImportError::new(
                line,
                Some(partner),
                format!("{code} in {pcn} appears again (first on line {first})"),
            ));
        }
        match (ods_code, pcn, name, start, end) {
            (Some(ods_code), Some(pcn_code), Some(pcn_name), Some(joined), Some(left)) if row_errors.is_empty() => {
                file.members.push(PcnMember {
                    line,
                    ods_code,
                    pcn_code,
                    pcn_name,
                    joined,
                    left,
                })
            }
            _ => errors.extend(row_errors),
        }
    }
    errors.sort_by_key(|e| e.line);
    if !errors.is_empty() {
        return Err(errors);
    }
    if file.members.is_empty() {
        return Err(vec![ImportError::new(
            2,
            Some(commissioner),
            format!("the file has no practices commissioned by {}", icb.codes().join(", ")),
        )]);
    }
    Ok(file)
}

/// The code that stands for "not in a PCN": a practice ODS lists in no PCN (or whose PCN file has
/// not been loaded yet) is counted under it, by name, rather than left out of every figure.
pub const NO_PCN: &str = "U00000";
/// Its name.
pub const NO_PCN_NAME: &str = "Not in a PCN";

/// Where a practice is counted: places are local (C&W has four), so a deployment names them, by
/// PCN code or by sub-ICB location code (`CASELEDGER_PLACES_FILE`: `code,place` rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Places(HashMap<String, ShortText>);

impl Places {
    /// From a CSV of `code,place` (a header row, then a PCN or sub-ICB location code a row).
    pub fn parse(csv: &str) -> Result<Self, Vec<ImportError>> {
        let sheet = Sheet::read(csv, &["code", "place"], 10_000)?;
        let mut errors = sheet.unreadable.clone();
        let mut places = HashMap::new();
        for record in sheet.records() {
            let code = record.field("code").to_ascii_uppercase();
            if code.is_empty() {
                errors.push(ImportError::new(record.line, Some("code"), "must not be empty"));
                continue;
            }
            match ShortText::parse(record.field("place")) {
                Ok(place) => {
                    if let Some(first) = places.insert(code.clone(), place) {
                        errors.push(ImportError::new(
                            record.line,
                            Some("code"),
                            format!("{code} is given a place twice (first {first})"),
                        ));
                    }
                }
                Err(e) => errors.push(ImportError::new(record.line, Some("place"), e.to_string())),
            }
        }
        if errors.is_empty() {
            Ok(Self(places))
        } else {
            Err(errors)
        }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, String> {
        pairs
            .into_iter()
            .map(|(code, place)| {
                ShortText::parse(place)
                    .map(|place| (code.trim().to_ascii_uppercase(), place))
                    .map_err(|e| format!("{code}: {e}"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The place of a practice in `pcn` commissioned by `commissioner`: the PCN's, else the
    /// sub-ICB location's, else none.
    pub fn place_of(&self, pcn: &str, commissioner: &str) -> Option<&ShortText> {
        self.0
            .get(&pcn.to_ascii_uppercase())
            .or_else(|| self.0.get(&commissioner.to_ascii_uppercase()))
    }
}

/// What the published files say of one practice of this ICB, as last imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published<'a> {
    pub name: &'a ShortText,
    pub details: &'a OdsDetails,
    /// The latest list size: patients, and the extract date.
    pub list_size: Option<(u32, NaiveDate)>,
    /// Every membership the ePCN release lists for it, or `None` when no release is loaded.
    pub memberships: Option<&'a [PcnMember]>,
}

/// Why a practice of ODS's file is not in the register yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRegistered {
    /// No list size of it is known: load "Patients Registered at a GP Practice".
    AwaitingListSize,
    /// It closed before the register knew it: its history is not CaseLedger's.
    ClosedBeforehand,
}

/// The register's entry for a practice from what the published files say, over what the register
/// held (`before`: the hand-built register's sites, and what a file not loaded yet would give).
pub fn compose(
    ods_code: &OdsCode,
    published: &Published<'_>,
    places: &Places,
    before: Option<&crate::practice::PracticeRegistration>,
    today: NaiveDate,
) -> Result<crate::practice::PracticeRegistration, NotRegistered> {
    use crate::practice::{PracticeDetails, PracticeRegistration};
    use crate::values::ListSize;
    if before.is_none() && published.details.closed_on().is_some() {
        return Err(NotRegistered::ClosedBeforehand);
    }
    let (list_size, list_size_date) = match published.list_size {
        Some((patients, date)) => match ListSize::new(i64::from(patients)) {
            Ok(size) => (size, Some(date)),
            // No patients (a practice closing): the size it had, if known.
            Err(_) => match before {
                Some(before) => (before.list_size, before.list_size_date),
                None => return Err(NotRegistered::AwaitingListSize),
            },
        },
        None => match before {
            Some(before) => (before.list_size, before.list_size_date),
            None => return Err(NotRegistered::AwaitingListSize),
        },
    };
    let no_pcn = || (PcnCode::parse(NO_PCN).ok(), ShortText::parse(NO_PCN_NAME).ok(), None);
    let (pcn_code, pcn_name, pcn_joined) = match published.memberships {
        Some(memberships) => memberships
            .iter()
            .filter(|m| m.holds_on(today))
            .max_by_key(|m| m.joined)
            .map_or_else(no_pcn, |m| {
                (Some(m.pcn_code.clone()), Some(m.pcn_name.clone()), m.joined)
            }),
        None => match before {
            Some(before) => (
                Some(before.practice.pcn_code.clone()),
                before.practice.pcn_name.clone(),
                before.pcn_joined,
            ),
            None => no_pcn(),
        },
    };
    let pcn_code = pcn_code.ok_or(NotRegistered::AwaitingListSize)?;
    let commissioner = published.details.commissioner.as_str();
    let place = places
        .place_of(pcn_code.as_str(), commissioner)
        .cloned()
        .or_else(|| before.map(|b| b.practice.place.clone()))
        .unwrap_or_else(|| published.details.commissioner.clone());
    Ok(PracticeRegistration {
        practice: PracticeDetails {
            ods_code: ods_code.clone(),
            name: published.name.clone(),
            pcn_code,
            pcn_name,
            place,
        },
        list_size,
        main_site: before.map_or_else(|| published.name.clone(), |b| b.main_site.clone()),
        branch_sites: before.map(|b| b.branch_sites.clone()).unwrap_or_default(),
        ods: Some(published.details.clone()),
        list_size_date,
        pcn_joined,
    })
}
