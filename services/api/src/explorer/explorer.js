// The explorer's one behaviour: POST a query to /graphql with the token, show the answer.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const token = $("token");
  token.value = sessionStorage.getItem("caseledger-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("caseledger-token", token.value.trim()));

  async function run(query, variables) {
    const headers = { "content-type": "application/json" };
    if (token.value.trim()) headers.authorization = "Bearer " + token.value.trim();
    const response = await fetch("/graphql", {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch (_) {
      return { status: response.status, body: text };
    }
  }

  $("run").addEventListener("click", async () => {
    let variables = {};
    try {
      variables = JSON.parse($("variables").value || "{}");
    } catch (error) {
      $("result").textContent = "Variables are not JSON: " + error.message;
      return;
    }
    $("result").textContent = "…";
    $("result").textContent = JSON.stringify(await run($("query").value, variables), null, 2);
  });

  $("schema").addEventListener("click", async () => {
    const answer = await run(
      "{ __schema { queryType { fields { name description } } mutationType { fields { name description } } } }",
      {},
    );
    const list = $("fields");
    list.replaceChildren();
    const schema = answer && answer.data && answer.data.__schema;
    if (!schema) {
      $("result").textContent = JSON.stringify(answer, null, 2);
      return;
    }
    for (const [kind, type] of [["query", schema.queryType], ["mutation", schema.mutationType]]) {
      for (const field of (type && type.fields) || []) {
        const item = document.createElement("li");
        item.textContent = kind + " " + field.name + (field.description ? " — " + field.description : "");
        list.appendChild(item);
      }
    }
  });
})();
