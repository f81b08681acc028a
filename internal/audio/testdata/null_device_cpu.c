// null_device_cpu.c: CPU of miniaudio's null device alone (no Go), for
// BENCHMARKS.md. Build and run (from the repository root):
//
//   gcc -O2 -I$(go list -m -f '{{.Dir}}' github.com/gen2brain/malgo) \
//       -o /tmp/nd internal/audio/testdata/null_device_cpu.c -ldl -lpthread -lm
//   /tmp/nd duplex; /tmp/nd playback
//
// It opens a 48 kHz mono s16 device on the null backend with 10 ms periods
// and an empty callback, and prints its CPU share over 8 s.
#define MINIAUDIO_IMPLEMENTATION
#include "miniaudio.h"
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
static double cpu(){struct rusage r;getrusage(RUSAGE_SELF,&r);return r.ru_utime.tv_sec+r.ru_stime.tv_sec+(r.ru_utime.tv_usec+r.ru_stime.tv_usec)/1e6;}
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
static volatile long n;
static void cb(ma_device*d,void*o,const void*i,ma_uint32 f){n++;}
int main(int argc,char**argv){
 ma_backend b=ma_backend_null; ma_context ctx; ma_context_init(&b,1,NULL,&ctx);
 ma_device_config c=ma_device_config_init(argv[1][0]=='d'?ma_device_type_duplex:ma_device_type_playback);
 c.sampleRate=48000;c.periodSizeInFrames=480;c.periods=2;c.capture.format=ma_format_s16;c.capture.channels=1;c.playback.format=ma_format_s16;c.playback.channels=1;c.dataCallback=cb;
 ma_device d; if(ma_device_init(&ctx,&c,&d)!=MA_SUCCESS){printf("init fail\n");return 1;}
 ma_device_start(&d); struct timespec s={1,0}; nanosleep(&s,0);
 double c0=cpu(),w0=now(); long n0=n; s.tv_sec=8; nanosleep(&s,0); double c1=cpu(),w1=now();
 printf("%s: %.3f%% cpu, %ld callbacks/s, %.1f us/callback\n",argv[1],100*(c1-c0)/(w1-w0),(long)((n-n0)/(w1-w0)),1e6*(c1-c0)/(n-n0));
 ma_device_uninit(&d);
}
