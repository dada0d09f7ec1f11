// Issue #10's end-to-end scenarios, on one platform started as `npm start` starts it (starting it
// once for all of them keeps the suite fast). Each scenario uses its own contacts, templates,
// segments and journeys, and reads analytics by its own template or journey.
import { afterAll, beforeAll, describe } from 'vitest';
import { startPlatform, type Platform } from '../support/platform';
import { abandonedCartScenario } from './abandoned-cart.scenario';
import { anonymousToKnownScenario } from './anonymous-to-known.scenario';
import { deletedTemplateScenario } from './deleted-template.scenario';
import { erasureScenario } from './erasure.scenario';
import { inboundRoutingScenario } from './inbound-routing.scenario';
import { optOutScenario } from './opt-out.scenario';
import { postPurchaseScenario } from './post-purchase.scenario';

describe('platform scenarios', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({ label: 'scenarios' });
  }, 180_000);
  afterAll(async () => {
    await platform?.close();
  });
  const p = (): Platform => platform;

  postPurchaseScenario(p);
  abandonedCartScenario(p);
  anonymousToKnownScenario(p);
  optOutScenario(p);
  inboundRoutingScenario(p);
  erasureScenario(p);
  deletedTemplateScenario(p);
});
