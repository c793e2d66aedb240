import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RelayContext } from '../../context.ts';
import { exportReview } from '../../governance/review.export.ts';
import type { ExportFormat } from '../../governance/review.model.ts';
import { signedInUser } from './page.helpers.ts';
import { reviewActor } from './reviews.forms.ts';

interface IdParams {
  id: string;
}

/** The review's CSV and PDF downloads; each download is audited as `review.exported`. */
export function registerReviewExports(app: FastifyInstance, ctx: RelayContext): void {
  const send =
    (format: ExportFormat) => async (request: FastifyRequest<{ Params: IdParams }>, reply: FastifyReply) => {
      const file = await exportReview(ctx, request.params.id, format, reviewActor(signedInUser(request)));
      // Reports name referrals by reference, so no browser or proxy should keep a copy.
      return reply
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .type(file.contentType)
        .send(file.body);
    };
  app.get<{ Params: IdParams }>('/safeguarding/reviews/:id/export.csv', send('csv'));
  app.get<{ Params: IdParams }>('/safeguarding/reviews/:id/report.pdf', send('pdf'));
}
