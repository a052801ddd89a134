import {
  ForbiddenException,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';

/** Refuses the requests that ask for it (`x-refuse: yes`), before the route reads their body. */
@Injectable()
export class RefusingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    if (request.headers['x-refuse'] === 'yes') throw new ForbiddenException('Not you');
    return true;
  }
}
