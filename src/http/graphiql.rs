//! The GraphiQL page. By default it loads GraphiQL from a CDN. With
//! `MEMBERKEY_GRAPHIQL_ASSETS_DIR` set, it loads the four files from that directory instead, so
//! it works on a network without internet (see the README for fetching them).

use crate::config::Config;

pub const ASSETS_PATH: &str = "/graphiql/assets";

/// The files the local page needs, as shipped in the `graphiql`, `react` and `react-dom` npm
/// packages.
pub const ASSET_FILES: [&str; 4] = [
    "graphiql.min.css",
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
];

pub fn page(config: &Config) -> String {
    if config.graphiql_assets_dir.is_none() {
        return async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .title("memberkey GraphiQL")
            .finish();
    }
    let [css, react, react_dom, graphiql] = ASSET_FILES;
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="robots" content="noindex">
  <title>memberkey GraphiQL</title>
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="{ASSETS_PATH}/{css}">
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{ASSETS_PATH}/{react}"></script>
  <script src="{ASSETS_PATH}/{react_dom}"></script>
  <script src="{ASSETS_PATH}/{graphiql}"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: "/graphql" }});
    ReactDOM.createRoot(document.getElementById("graphiql"))
      .render(React.createElement(GraphiQL, {{ fetcher, defaultEditorToolsVisibility: true }}));
  </script>
</body>
</html>"#
    )
}
