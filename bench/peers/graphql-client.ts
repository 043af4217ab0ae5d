/** A keep-alive GraphQL client for the load generator. */
import { Pool } from 'undici';

/** POSTs documents to one endpoint; `post` resolves `data` and rejects on any error. */
export interface GraphQLClient {
  post<T>(query: string, variables: object, authorization: string): Promise<T>;
  close(): Promise<void>;
}

/** A client over `connections` keep-alive connections to `url`. */
export function graphqlClient(url: string, connections: number): GraphQLClient {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, { connections });
  return {
    async post<T>(query: string, variables: object, authorization: string) {
      const response = await pool.request({
        method: 'POST',
        path: pathname,
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.body.json()) as { data?: T; errors?: unknown };
      if (response.statusCode !== 200 || body.errors || !body.data)
        throw new Error(`${url}: ${response.statusCode} ${JSON.stringify(body).slice(0, 400)}`);
      return body.data;
    },
    close: () => pool.close(),
  };
}
