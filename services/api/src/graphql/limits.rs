//! What one GraphQL operation may cost, on every transport (HTTP and WebSocket alike): the query's
//! size and how deeply its brackets nest (read off the text), how many selections it makes once
//! its fragments are expanded, how many fragment spreads and aliases it holds (read off the parsed
//! document); and how long it may run.
//!
//! All of it is checked when the request is prepared, before async-graphql's own checks run: its
//! recursion-depth check walks every fragment spread again, so 28 fragments that each spread the
//! next twice (1 KB) cost it 2^28 steps, seconds of a worker's time before any limit of ours could
//! answer. Here each check is linear in the text: nesting is counted on the characters, and each
//! fragment's expanded size is worked out once and remembered, so such a query is refused in
//! microseconds and what reaches async-graphql is small once expanded.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::ValidationResult;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Request, Response, ServerError, ServerResult};

/// The bounds of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of query text (variables come separately and are bounded by the body limit).
    pub max_query_bytes: usize,
    /// Fields, inline fragments and fragment spreads, with every fragment expanded where used.
    pub max_selections: u64,
    /// Fragment spreads written in the document.
    pub max_fragment_spreads: u64,
    /// Aliased fields, with every fragment expanded where used.
    pub max_aliases: u64,
    /// How deeply `{`, `[` and `(` may nest in the query's text (selections, lists, objects).
    pub max_nesting: usize,
    /// How long a query or mutation may run once it is valid.
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_query_bytes: 64 * 1024,
            max_selections: 2_000,
            max_fragment_spreads: 100,
            max_aliases: 32,
            max_nesting: 32,
            timeout: Duration::from_secs(30),
        }
    }
}

/// The limits as an async-graphql extension.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits(pub Limits);

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension(self.0))
    }
}

struct LimitsExtension(Limits);

fn refused(message: String) -> ServerError {
    with_code(ServerError::new(message, None), "QUERY_TOO_COMPLEX")
}

fn with_code(mut error: ServerError, code: &str) -> ServerError {
    error.extensions.get_or_insert_with(Default::default).set("code", code);
    error
}

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    /// Every bound on the document, before async-graphql parses or checks it: the text's size and
    /// nesting, then the parsed document's expanded size. The document parsed here is the one
    /// the schema uses.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let limits = self.0;
        check_text(&request.query, &limits).map_err(refused)?;
        let document = request
            .parsed_query()
            .map_err(|error| with_code(error, "GRAPHQL_PARSE_FAILED"))?;
        check(document, &limits).map_err(refused)?;
        next.run(ctx, request).await
    }

    /// async-graphql's own checks of the parsed document (directives per field, recursion) run
    /// here, on what the pre-pass let through; a refusal says so with a code.
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &async_graphql::Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|error| {
            if error.extensions.as_ref().is_some_and(|e| e.get("code").is_some()) {
                error
            } else {
                with_code(error, "QUERY_TOO_COMPLEX")
            }
        })
    }

    /// A query the schema refuses (an unknown field, a value of the wrong type, too deep or too
    /// complex) says so with a code, as every other error does.
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| with_code(error, "GRAPHQL_VALIDATION_FAILED"))
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        // The timer counts whole milliseconds: with no time at all allowed, an operation that
        // answers within the first one would slip through, so none is started.
        let ran = if self.0.timeout.is_zero() {
            Err(())
        } else {
            tokio::time::timeout(self.0.timeout, next.run(ctx, operation_name))
                .await
                .map_err(|_| ())
        };
        match ran {
            // async-graphql's own refusals of the request's shape (no operation of that name,
            // several and none named) carry no code: BAD_REQUEST, as the HTTP layer says it.
            Ok(mut response) => {
                for error in &mut response.errors {
                    if error.extensions.as_ref().is_none_or(|e| e.get("code").is_none()) {
                        *error = with_code(error.clone(), "BAD_REQUEST");
                    }
                }
                response
            }
            Err(_) => Response::from_errors(vec![with_code(
                ServerError::new("the request took too long", None),
                "TIMEOUT",
            )]),
        }
    }
}

/// Checks the query's text: its length, and how deeply its brackets nest (outside strings and
/// comments). One pass over the characters, whatever they hold.
pub fn check_text(query: &str, limits: &Limits) -> Result<(), String> {
    if query.len() > limits.max_query_bytes {
        return Err(format!(
            "the query is {} bytes long; at most {} are accepted",
            query.len(),
            limits.max_query_bytes
        ));
    }
    let deepest = nesting(query);
    if deepest > limits.max_nesting {
        return Err(format!(
            "the query nests {deepest} levels deep; at most {} are accepted",
            limits.max_nesting
        ));
    }
    Ok(())
}

/// The deepest nesting of `{`, `[` and `(` in GraphQL text, skipping strings, block strings and
/// comments (whose brackets are not syntax). Unbalanced text is the parser's to refuse.
fn nesting(query: &str) -> usize {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // An escaped triple quote inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// What a selection set costs once expanded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cost {
    selections: u64,
    aliases: u64,
}

impl Cost {
    fn add(self, other: Cost) -> Cost {
        Cost {
            selections: self.selections.saturating_add(other.selections),
            aliases: self.aliases.saturating_add(other.aliases),
        }
    }
}

/// Checks `document` against `limits`; the reason it is refused, if it is.
pub fn check(document: &ExecutableDocument, limits: &Limits) -> Result<(), String> {
    let spreads = document
        .fragments
        .values()
        .map(|fragment| count_spreads(&fragment.node.selection_set.node))
        .chain(operations(document).map(count_spreads))
        .fold(0u64, u64::saturating_add);
    if spreads > limits.max_fragment_spreads {
        return Err(format!(
            "the query has {spreads} fragment spreads; at most {} are accepted",
            limits.max_fragment_spreads
        ));
    }
    let mut sizer = Sizer {
        document,
        known: HashMap::new(),
        expanding: Vec::new(),
    };
    for operation in operations(document) {
        let cost = sizer.size(operation)?;
        if cost.selections > limits.max_selections {
            return Err(format!(
                "the query makes {} selections once its fragments are expanded; at most {} are accepted",
                cost.selections, limits.max_selections
            ));
        }
        if cost.aliases > limits.max_aliases {
            return Err(format!(
                "the query uses {} aliases once its fragments are expanded; at most {} are accepted",
                cost.aliases, limits.max_aliases
            ));
        }
    }
    Ok(())
}

fn operations(document: &ExecutableDocument) -> Box<dyn Iterator<Item = &SelectionSet> + '_> {
    match &document.operations {
        DocumentOperations::Single(operation) => Box::new(std::iter::once(&operation.node.selection_set.node)),
        DocumentOperations::Multiple(operations) => {
            Box::new(operations.values().map(|operation| &operation.node.selection_set.node))
        }
    }
}

fn count_spreads(set: &SelectionSet) -> u64 {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => count_spreads(&field.node.selection_set.node),
            Selection::InlineFragment(inline) => count_spreads(&inline.node.selection_set.node),
            Selection::FragmentSpread(_) => 1,
        })
        .fold(0, u64::saturating_add)
}

/// Sizes selection sets, each named fragment once.
struct Sizer<'a> {
    document: &'a ExecutableDocument,
    known: HashMap<&'a str, Cost>,
    /// Fragments being sized now: meeting one again is a cycle.
    expanding: Vec<&'a str>,
}

impl<'a> Sizer<'a> {
    fn size(&mut self, set: &'a SelectionSet) -> Result<Cost, String> {
        let mut total = Cost::default();
        for item in &set.items {
            let cost = match &item.node {
                Selection::Field(field) => {
                    let inner = self.size(&field.node.selection_set.node)?;
                    Cost {
                        selections: 1,
                        aliases: u64::from(field.node.alias.is_some()),
                    }
                    .add(inner)
                }
                Selection::InlineFragment(inline) => Cost {
                    selections: 1,
                    aliases: 0,
                }
                .add(self.size(&inline.node.selection_set.node)?),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    Cost {
                        selections: 1,
                        aliases: 0,
                    }
                    .add(self.fragment(name)?)
                }
            };
            total = total.add(cost);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Cost, String> {
        if let Some(cost) = self.known.get(name) {
            return Ok(*cost);
        }
        if self.expanding.contains(&name) {
            return Err(format!("fragment {name} spreads itself"));
        }
        // An unknown fragment is the validator's to report; here it costs nothing.
        let Some((key, fragment)) = self.document.fragments.get_key_value(name) else {
            return Ok(Cost::default());
        };
        self.expanding.push(key.as_str());
        let cost = self.size(&fragment.node.selection_set.node);
        self.expanding.pop();
        let cost = cost?;
        self.known.insert(key.as_str(), cost);
        Ok(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str) -> Result<(), String> {
        check_text(query, &Limits::default())?;
        let document = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        check(&document, &Limits::default())
    }

    #[test]
    fn brackets_nested_past_the_limit_are_refused_before_parsing_but_not_in_strings_or_comments() {
        let deep = format!("query {{ me(x: {}1{}) {{ id }} }}", "[".repeat(40), "]".repeat(40));
        assert!(checked(&deep).unwrap_err().contains("nests 42 levels"));
        // 64 KB of nothing but opening brackets: refused on the text, never handed to the parser.
        let wall = "{".repeat(64 * 1024 - 1);
        assert!(checked(&wall).unwrap_err().contains("levels deep"));
        let quoted = format!(
            "query {{ me {{ id }} }} # {}\nquery Q($a: String = \"{}\") {{ me {{ id }} }}",
            "{".repeat(100),
            "[".repeat(100)
        );
        assert_eq!(nesting(&quoted), 2, "brackets in comments and strings are not syntax");
        let block = format!(
            "query {{ me {{ id }} }} \"\"\" {} \\\"\"\" {} \"\"\"",
            "(".repeat(50),
            "{".repeat(50)
        );
        assert_eq!(nesting(&block), 2, "nor in block strings, escaped quotes and all");
    }

    /// `depth` fragments, each spreading the next twice, the last selecting `__typename`.
    fn doubling(depth: usize) -> String {
        let mut query = String::from("query { ...F0 }\n");
        for i in 0..depth {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{next} ...F{next} }}\n",
                next = i + 1
            ));
        }
        query.push_str(&format!("fragment F{depth} on Query {{ __typename }}\n"));
        query
    }

    #[test]
    fn fragments_that_double_at_each_level_are_refused_by_their_expanded_size() {
        let error = checked(&doubling(25)).unwrap_err();
        assert!(error.contains("selections once its fragments are expanded"), "{error}");
        // A few levels of the same shape are fine: the size is what counts, not the shape.
        assert_eq!(checked(&doubling(4)), Ok(()));
    }

    #[test]
    fn a_fragment_used_many_times_is_counted_at_each_use() {
        let fragment = format!(
            "fragment Big on Query {{ {} }}",
            (0..100)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let twice = format!("query {{ ...Big ...Big }} {fragment}");
        let error = checked(&twice).unwrap_err();
        assert!(error.contains("aliases"), "{error}");
    }

    #[test]
    fn too_many_spreads_and_too_many_aliases_are_refused() {
        let spreads = format!(
            "query {{ {} }} fragment F on Query {{ __typename }}",
            "...F ".repeat(101)
        );
        assert!(checked(&spreads).unwrap_err().contains("fragment spreads"));
        let aliases = format!(
            "query {{ {} }}",
            (0..33)
                .map(|i| format!("a{i}: me {{ id }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(checked(&aliases).unwrap_err().contains("33 aliases"));
    }

    #[test]
    fn a_fragment_cycle_is_refused_not_followed_for_ever() {
        let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert!(checked(cycle).unwrap_err().contains("spreads itself"));
    }

    #[test]
    fn the_introspection_query_of_graphiql_passes() {
        let query = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } \
                     subscriptionType { name } types { ...FullType } directives { name description locations \
                     args { ...InputValue } } } }
            fragment FullType on __Type { kind name description fields(includeDeprecated: true) { name description
              args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
              inputFields { ...InputValue } interfaces { ...TypeRef }
              enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
              possibleTypes { ...TypeRef } }
            fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
            fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name
              ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }";
        assert_eq!(checked(query), Ok(()));
    }
}
