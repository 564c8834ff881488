import { type GlueJobName, JOB_ARGUMENT_PATTERN, type JobArgumentName } from '../contracts/index.ts';
import type { GlueJobArguments } from './job-arguments.ts';
import { GLUE_PACKAGE, GLUE_PACKAGE_ROOT } from './package.ts';
import { header, type PyValue, py } from './python.ts';

/** One field of a job's Model (the dataclass in its module): the value the table model gives it. */
export interface ModelField {
  readonly name: string;
  /** Why the value is what it is, when the package's Model does not say enough. */
  readonly comment?: string;
  readonly value: PyValue;
}

export interface EntryPoint {
  /** The job, also its module in the package. */
  readonly job: GlueJobName;
  readonly title: string;
  readonly description: string;
  readonly args: GlueJobArguments;
  /** The fields of `<module>.Model`, in order. */
  readonly model: readonly ModelField[];
  /** Keyword parameters of `<module>.run` → the job argument each takes its value from. */
  readonly parameters: Readonly<Record<string, JobArgumentName>>;
}

/**
 * A generated Glue script: only what the table model decides (the job's
 * arguments and its Model) and a call of the job's run() in the package,
 * which Glue gets through --extra-py-files.
 */
export function entryPointScript(entry: EntryPoint): string {
  const module = entry.job;
  const declared = [...entry.args.required, ...Object.keys(entry.args.defaults), ...entry.args.optional];
  const taken = Object.values(entry.parameters);
  const unused = declared.filter((name) => !taken.includes(name as JobArgumentName));
  const undeclared = taken.filter((name) => !declared.includes(name));
  if (unused.length > 0 || undeclared.length > 0) {
    throw new Error(
      `${module}: run() parameters must take every job argument once; unused ${unused.join(', ') || 'none'}, undeclared ${undeclared.join(', ') || 'none'}`,
    );
  }
  const fields = entry.model.map(
    (f) => `${f.comment === undefined ? '' : `    # ${f.comment}\n`}    ${f.name}=${py(f.value, '    ')},\n`,
  );
  const parameters = Object.entries(entry.parameters).map(
    ([parameter, argument]) => `        ${parameter}=args[${py(argument)}],\n`,
  );
  return `${header(
    entry.title,
    `${entry.description}

The code is ${GLUE_PACKAGE}.${module} (${GLUE_PACKAGE_ROOT}/), which Glue gets through
--extra-py-files; this file holds what the table model decides and runs it.`,
  )}
import sys

from pyspark.sql import SparkSession

from ${GLUE_PACKAGE} import ${module}
from ${GLUE_PACKAGE}.common import job_arguments

# The job's arguments (lib/glue/job-arguments.ts): required ones, ones with a default, optional ones
# (None unless passed), and the pattern each value must match (lib/contracts/glue-job.ts).
ARGUMENTS = ${py(scriptArguments(entry.args))}

MODEL = ${module}.Model(
${fields.join('')})

if __name__ == "__main__":
    args = job_arguments(ARGUMENTS, sys.argv)
    ${module}.run(
        SparkSession.builder.getOrCreate(),
        MODEL,
${parameters.join('')}    )
`;
}

/** ARGUMENTS of a script, as ledgerlake_glue.common.job_arguments reads them. */
export function scriptArguments(args: GlueJobArguments): PyValue {
  const names = [...args.required, ...Object.keys(args.defaults), ...args.optional] as JobArgumentName[];
  const patterns = names.flatMap((name) => {
    const pattern = JOB_ARGUMENT_PATTERN[name];
    return pattern === undefined ? [] : [[name, pattern] as const];
  });
  return {
    required: args.required,
    defaults: args.defaults as Record<string, string>,
    optional: args.optional,
    patterns: Object.fromEntries(patterns),
  };
}
