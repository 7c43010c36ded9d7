import { apiHandler } from '../shared/http/api-handler.ts';
import { errorResponse } from '../shared/http/responses.ts';

/** The `$default` route: unknown paths get the service's JSON 404. */
export const handler = apiHandler(async () => errorResponse(404, 'No such route.'));
