/**
 * The ingest state machine's Amazon States Language definition, read back
 * from a synthesized template. CloudFormation holds it as `Fn::Join` of text
 * and intrinsics (function ARNs, job names, the bucket); `resolve` turns each
 * intrinsic into text, e.g. a local runner's fake ARNs.
 */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly [field: string]: unknown;
}

export interface AslState {
  readonly Type: string;
  readonly [field: string]: unknown;
}

export type IntrinsicResolver = (intrinsic: Readonly<Record<string, unknown>>) => string;

/** Placeholders for a definition read offline: fixed partition, region and account; ARNs named after logical ids. */
export const placeholderResolver: IntrinsicResolver = (intrinsic) => {
  const ref = intrinsic.Ref;
  if (ref === 'AWS::Partition') return 'aws';
  if (ref === 'AWS::Region') return 'us-east-1';
  if (ref === 'AWS::AccountId') return '123456789012';
  if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (typeof ref === 'string') return ref;
  const getAtt = intrinsic['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn')
    return `arn:aws:lambda:us-east-1:123456789012:function:${getAtt[0]}`;
  const imported = intrinsic['Fn::ImportValue'];
  if (typeof imported === 'string') return imported;
  throw new Error(`no placeholder for ${JSON.stringify(intrinsic)}`);
};

interface TemplateJson {
  readonly Resources: Readonly<
    Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>
  >;
}

/** The definition of the only state machine in `template` (the pipeline stack's). */
export function ingestDefinition(
  template: TemplateJson,
  resolve: IntrinsicResolver = placeholderResolver,
): AslDefinition {
  const machines = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  );
  if (machines.length !== 1)
    throw new Error(`expected one state machine in the template, found ${machines.length}`);
  const definition = machines[0]?.Properties?.DefinitionString;
  return JSON.parse(textOf(definition, resolve)) as AslDefinition;
}

function textOf(value: unknown, resolve: IntrinsicResolver): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null)
    throw new Error(`unexpected ${JSON.stringify(value)} in definition`);
  const join = (value as Record<string, unknown>)['Fn::Join'];
  if (Array.isArray(join)) {
    const [separator, parts] = join as [string, unknown[]];
    return parts.map((part) => textOf(part, resolve)).join(separator);
  }
  return resolve(value as Record<string, unknown>);
}
