import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONTAINER_IMAGES } from './container-stack';

describe('the tests’ container stack', () => {
  it('runs the images docker-compose.yml runs', () => {
    const compose = parse(
      fs.readFileSync(path.resolve(__dirname, '../../../docker-compose.yml'), 'utf8'),
    ) as { services: Record<string, { image?: string }> };
    for (const [name, image] of Object.entries(CONTAINER_IMAGES)) {
      expect({ name, image }).toEqual({ name, image: compose.services[name]?.image });
    }
  });
});
