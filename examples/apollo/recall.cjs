// Apollo Client 4 against memos-graph, with the InMemoryCache of docs/clients.md: search reading each hit's
// score from `hits` (a normalised Memory keeps one metadata.relativity, which the next search overwrites),
// then a cube's memories page by page, merged into one cached list by relayStylePagination.
//
//   cd examples/apollo && npm install        # @apollo/client, graphql, rxjs (package.json pins them)
//   MEMOS_API_KEY=mgk_... node recall.cjs <cube id> "What instrument does Alice play?"
//
// MEMOS_GRAPHQL_URL defaults to http://127.0.0.1:8000/graphql (what `bash scripts/run.sh` serves). Prints one
// JSON object: {hits, seen, cachedTotal, totalCount}. tests/examples/test_examples.py runs it against a served instance.
const { ApolloClient, HttpLink, InMemoryCache, gql } = require("@apollo/client");
const { relayStylePagination } = require("@apollo/client/utilities");

const url = process.env.MEMOS_GRAPHQL_URL || "http://127.0.0.1:8000/graphql";
const key = process.env.MEMOS_API_KEY; // an API key; in a browser keep it out of localStorage
const [cubeId, question = "What instrument does Alice play?"] = process.argv.slice(2);
if (!key || !cubeId) {
  process.stderr.write("usage: MEMOS_API_KEY=... node recall.cjs <cube id> [question]\n");
  process.exit(2);
}

const cache = new InMemoryCache({
  typePolicies: {
    // metadata has no id of its own: merge it into its memory instead of replacing it
    MemoryMetadata: { merge: true },
    Query: {
      fields: {
        // pages of one cube, one filter and one order are one list; another filter is another list
        memories: relayStylePagination(["cubeId", "where", "orderBy"]),
      },
    },
    MemCube: { fields: { memories: relayStylePagination(["where", "orderBy"]) } },
    Memory: { fields: { history: relayStylePagination() } },
  },
});
const client = new ApolloClient({ cache, link: new HttpLink({ uri: url, headers: { Authorization: `Bearer ${key}` } }) });

const RECALL = gql`
  query Recall($q: String!, $cubes: [ID!], $k: Int) {
    search(query: $q, cubeIds: $cubes, topK: $k) {
      hits { cubeId rank relativity node { id memoryId memory } }
    }
  }
`;

const PAGE = gql`
  query CubeMemories($cube: ID!, $after: String) {
    memories(cubeId: $cube, first: 2, after: $after, orderBy: { field: CREATED_AT, direction: ASC }) {
      edges { cursor node { id memoryId memory } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
`;

async function main() {
  const found = await client.query({ query: RECALL, variables: { q: question, cubes: [cubeId], k: 3 } });
  const hits = found.data.search.hits.map((hit) => ({ rank: hit.rank, relativity: hit.relativity, memory: hit.node.memory }));

  // Page by page: relayStylePagination keys the list by cubeId, where and orderBy (not `after`), so each page
  // fetched is appended to one cached list; each answer reads that list back, so `seen` counts the memories
  // held after each page, and its pageInfo is the last page's.
  let page = (await client.query({ query: PAGE, variables: { cube: cubeId }, fetchPolicy: "network-only" })).data;
  const seen = [page.memories.edges.length];
  while (page.memories.pageInfo.hasNextPage) {
    const after = page.memories.pageInfo.endCursor;
    page = (await client.query({ query: PAGE, variables: { cube: cubeId, after }, fetchPolicy: "network-only" })).data;
    seen.push(page.memories.edges.length);
  }
  const cached = client.readQuery({ query: PAGE, variables: { cube: cubeId } });
  process.stdout.write(
    JSON.stringify({ hits, seen, cachedTotal: cached.memories.edges.length, totalCount: cached.memories.totalCount }),
  );
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
