/**
 * `nestjs-attachments/validation`: the class-validator decorator of upload tokens. Only this entry
 * point loads class-validator, so apps without it never need it.
 */
import { Injectable, Optional } from '@nestjs/common';
import {
  registerDecorator,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidationOptions,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { AttachmentsConfig } from '../config/index.js';
import { uploadTokenProblem } from './upload-token-schema.js';

const UNWIRED =
  'UploadTokenConstraint has no AttachmentsConfig: list it in the providers of a module that ' +
  'imports AttachmentsModule, and call useContainer(app.select(AppModule), { fallbackOnErrors: true }) from ' +
  'class-validator after creating the app';

/**
 * Checks a property holds an upload token `attach()` could accept. It gets the module's secret by
 * injection, so class-validator must resolve it through Nest's container (see UNWIRED).
 */
@Injectable()
@ValidatorConstraint({ name: 'isUploadToken' })
export class UploadTokenConstraint implements ValidatorConstraintInterface {
  constructor(@Optional() private readonly config?: AttachmentsConfig) {}

  validate(value: unknown): boolean {
    return this.problem(value) === null;
  }

  defaultMessage(args: ValidationArguments): string {
    return `${args.property}: ${this.problem(args.value) ?? 'not an upload token'}`;
  }

  private problem(value: unknown): string | null {
    if (!this.config) return UNWIRED;
    const { secret, cacheStorage } = this.config;
    return uploadTokenProblem(value, { secret, cacheStorage });
  }
}

/**
 * The property is an upload token with a valid signature, not expired, for the cache storage.
 * An early check for a clear 400: `attach()` still claims the token and checks its uploader.
 */
export function IsUploadToken(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isUploadToken',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: UploadTokenConstraint,
    });
  };
}
