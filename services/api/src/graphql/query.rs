//! The query root: who am I, one case, and the four views, each for its roles only.

use async_graphql::{Context, ID, Object, SimpleObject};
use caseledger_cases::Role as DomainRole;
use uuid::Uuid;

use super::case::{CaseNode, case_by_id, case_by_practice};
use super::enums::Role;
use super::views::{ChampionView, DhuView, IcbView, LmcView};
use super::{caller, require, state};
use crate::error::{ApiError, ApiResult, IntoGraphql};

#[derive(SimpleObject, Debug)]
pub struct Actor {
    pub id: String,
    pub role: Role,
}

#[derive(Debug, Default)]
pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Actor> {
        let actor = caller(ctx)?;
        Ok(Actor {
            id: actor.id.to_string(),
            role: actor.role.into(),
        })
    }

    /// Null if absent or not visible to the caller.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<CaseNode>> {
        let actor = caller(ctx)?;
        let Ok(case_id) = Uuid::parse_str(&id) else {
            return Ok(None);
        };
        let data = case_by_id(state(ctx).store.pool(), case_id).await.gql()?;
        Ok(data.map(|data| CaseNode {
            data,
            viewer: actor.role,
        }))
    }

    /// The practice's open case, else its most recent.
    async fn case_by_practice(&self, ctx: &Context<'_>, ods_code: String) -> ApiResult<Option<CaseNode>> {
        let actor = caller(ctx)?;
        let ods_code = caseledger_cases::values::OdsCode::parse(&ods_code)
            .map_err(|e| ApiError::bad_input("odsCode", e))
            .gql()?;
        let data = case_by_practice(state(ctx).store.pool(), ods_code.as_str())
            .await
            .gql()?;
        Ok(data.map(|data| CaseNode {
            data,
            viewer: actor.role,
        }))
    }

    async fn icb(&self, ctx: &Context<'_>) -> ApiResult<IcbView> {
        let actor = require(ctx, &[DomainRole::Icb, DomainRole::Admin], "read the ICB view")?;
        Ok(IcbView { viewer: actor.role })
    }

    async fn lmc(&self, ctx: &Context<'_>) -> ApiResult<LmcView> {
        let actor = require(ctx, &[DomainRole::Lmc, DomainRole::Admin], "read the LMC view")?;
        Ok(LmcView { viewer: actor.role })
    }

    async fn dhu(&self, ctx: &Context<'_>) -> ApiResult<DhuView> {
        let actor = require(ctx, &[DomainRole::Dhu, DomainRole::Admin], "read the DHU view")?;
        Ok(DhuView { viewer: actor.role })
    }

    async fn champion(&self, ctx: &Context<'_>) -> ApiResult<ChampionView> {
        let actor = require(
            ctx,
            &[DomainRole::Champion, DomainRole::Admin],
            "read the champion view",
        )?;
        Ok(ChampionView {
            viewer: actor.role,
            champion_id: actor.id.to_string(),
        })
    }
}
