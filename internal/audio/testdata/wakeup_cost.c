// wakeup_cost.c: CPU cost of one timer wake-up on this machine, for
// BENCHMARKS.md: 500 sleeps of 10 ms with select (mode 0), absolute
// clock_nanosleep (1) or a timerfd (2).
//
//   gcc -O2 -o /tmp/wk internal/audio/testdata/wakeup_cost.c && /tmp/wk 0 && /tmp/wk 1 && /tmp/wk 2
#include <stdio.h>
#include <time.h>
#include <sys/select.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <stdint.h>
static double cpu(){struct rusage r;getrusage(RUSAGE_SELF,&r);return r.ru_utime.tv_sec+r.ru_stime.tv_sec+(r.ru_utime.tv_usec+r.ru_stime.tv_usec)/1e6;}
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec/1e9;}
int main(int argc,char**argv){
 int mode=argv[1][0]-'0'; int n=500;
 double c0=cpu(),w0=now();
 if(mode==0){for(int i=0;i<n;i++){struct timeval tv={0,10000};select(0,0,0,0,&tv);}}
 else if(mode==1){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);for(int i=0;i<n;i++){t.tv_nsec+=10000000;if(t.tv_nsec>=1000000000){t.tv_nsec-=1000000000;t.tv_sec++;}clock_nanosleep(CLOCK_MONOTONIC,TIMER_ABSTIME,&t,0);}}
 else {int fd=timerfd_create(CLOCK_MONOTONIC,0);struct itimerspec it={{0,10000000},{0,10000000}};timerfd_settime(fd,0,&it,0);uint64_t x;for(int i=0;i<n;i++)read(fd,&x,8);}
 double c1=cpu(),w1=now();
 printf("mode %d: %.3f%% cpu, %.1f us/wake, wall %.3f s\n",mode,100*(c1-c0)/(w1-w0),1e6*(c1-c0)/n,w1-w0);
}
