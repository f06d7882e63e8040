// Apollo Client 4 with the InMemoryCache of docs/clients.md, against a running memos-graph: runs each search
// of argv[2] (JSON: {url, key, cubes, questions}) through the cache, then reads the first one back from the
// cache, and prints {answers, cached} as JSON. Run by tests/graphql/test_apollo_client.py.
const { ApolloClient, HttpLink, InMemoryCache, gql } = require("@apollo/client");
const { relayStylePagination } = require("@apollo/client/utilities");

const { url, key, cubes, questions } = JSON.parse(process.argv[2]);

const cache = new InMemoryCache({
  typePolicies: {
    MemoryMetadata: { merge: true },
    Query: { fields: { memories: relayStylePagination(["cubeId", "where", "orderBy"]) } },
    MemCube: { fields: { memories: relayStylePagination(["where", "orderBy"]) } },
    Memory: { fields: { history: relayStylePagination() } },
  },
});
const client = new ApolloClient({ cache, link: new HttpLink({ uri: url, headers: { Authorization: `Bearer ${key}` } }) });

const SEARCH = gql`
  query Recall($q: String!, $cubes: [ID!]) {
    search(query: $q, cubeIds: $cubes, topK: 2) {
      textMem { cubeId memories { id memory metadata { relativity } } }
      hits { cubeId rank relativity node { id memory } }
    }
  }
`;

async function main() {
  const answers = [];
  for (const q of questions) {
    const { data } = await client.query({ query: SEARCH, variables: { q, cubes }, fetchPolicy: "network-only" });
    answers.push(data.search);
  }
  const cached = client.readQuery({ query: SEARCH, variables: { q: questions[0], cubes } });
  process.stdout.write(JSON.stringify({ answers, cached: cached.search }));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
