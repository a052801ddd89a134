import assert from 'node:assert/strict';
import type { Attributes } from '@opentelemetry/api';
import type { Histogram, MetricData, MetricReader } from '@opentelemetry/sdk-metrics';

/** One collection of a reader: the points of the library's meter, by instrument name. */
export class CollectedMetrics {
  private constructor(private readonly byName: Map<string, MetricData>) {}

  static async of(reader: MetricReader): Promise<CollectedMetrics> {
    const { resourceMetrics, errors } = await reader.collect();
    assert.deepEqual(errors, [], 'the collection raised nothing');
    const scope = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'nestjs-attachments');
    return new CollectedMetrics(
      new Map(scope.flatMap((s) => s.metrics).map((metric) => [metric.descriptor.name, metric])),
    );
  }

  descriptor(name: string) {
    return this.byName.get(name)?.descriptor;
  }

  /** The value of a counter or gauge at the point with exactly these attributes. */
  number(name: string, attributes: Attributes): number | undefined {
    const value = this.point(name, attributes);
    assert.ok(value === undefined || typeof value === 'number', `${name} holds numbers`);
    return value;
  }

  /** The histogram's point with exactly these attributes. */
  histogram(name: string, attributes: Attributes): Histogram | undefined {
    const value = this.point(name, attributes);
    assert.ok(value === undefined || typeof value === 'object', `${name} is a histogram`);
    return value;
  }

  private point(name: string, attributes: Attributes): number | Histogram | undefined {
    const metric = this.byName.get(name);
    if (!metric) return undefined;
    const points: { attributes: Attributes; value: unknown }[] = metric.dataPoints;
    const found = points.find((point) => sameAttributes(point.attributes, attributes));
    return found?.value as number | Histogram | undefined;
  }
}

function sameAttributes(a: Attributes, b: Attributes): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
