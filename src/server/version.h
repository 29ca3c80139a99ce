/* version.h -- percore's own version, and the Redis version whose behaviour
 * it matches (what HELLO and INFO's redis_version report). */
#ifndef PERCORE_VERSION_H
#define PERCORE_VERSION_H
#define PERCORE_VERSION "0.1.0"
#define PERCORE_REDIS_VERSION "7.0.15"
#endif
